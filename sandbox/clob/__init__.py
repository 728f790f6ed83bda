"""The sandbox's CLOB V2-compatible HTTP server: auth, orders, matching, settlement, Data API."""
