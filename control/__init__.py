"""The client side of the workflow contract: register, start, steer and read pairs.

Used by the CLI, the Telegram bot and the demo; it names workflows by `projectk.contract` and
never imports workflow code.
"""
