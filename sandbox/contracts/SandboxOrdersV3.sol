// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// The signed order as ExchangeV3 takes it (the V2 order struct plus its signature).
struct Order {
    uint256 salt;
    address maker;
    address signer;
    uint256 tokenId;
    uint256 makerAmount;
    uint256 takerAmount;
    uint8 side;
    uint8 signatureType;
    uint256 timestamp;
    bytes32 metadata;
    bytes32 builder;
    bytes signature;
}

/// The taker's amounts the operator computed off-chain, checked against the settlement.
struct TakerAmounts {
    uint256 takerFillAmount;
    uint256 takerReceiveAmount;
    uint256 takerFeeAmount;
}

/// How much of an order's maker amount is left (``remaining`` 0 and not filled = untouched).
struct OrderStatus {
    bool filled;
    uint248 remaining;
}

interface IERC1271 {
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4);
}

/// @title Order hashing, signatures and fill bookkeeping of the sandbox ExchangeV3.
/// @notice The order hash is the EIP-712 digest over the domain ("Polymarket CTF Exchange", "3",
///         chain id, this contract). EOA orders must be signed by their maker; proxy and safe
///         orders by their signer; deposit-wallet orders (type 3) are checked with ERC-1271 when
///         the wallet has code. The sandbox deploys no wallet contracts, so a type-3 order of a
///         code-less wallet is accepted on the operator's word (the CLOB verified its ERC-7739
///         signature); proxy and safe makers are not checked to be the signer's derived wallet.
///         Invariant: an order never fills beyond its maker amount.
abstract contract SandboxOrdersV3 {
    bytes32 internal constant ORDER_TYPEHASH = keccak256(
        "Order(uint256 salt,address maker,address signer,uint256 tokenId,uint256 makerAmount,"
        "uint256 takerAmount,uint8 side,uint8 signatureType,uint256 timestamp,bytes32 metadata,"
        "bytes32 builder)"
    );
    bytes32 internal constant DOMAIN_TYPEHASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );

    mapping(bytes32 => OrderStatus) public orderStatus;

    function domainSeparator() public view returns (bytes32) {
        return keccak256(
            abi.encode(
                DOMAIN_TYPEHASH,
                keccak256("Polymarket CTF Exchange"),
                keccak256("3"),
                block.chainid,
                address(this)
            )
        );
    }

    function hashOrder(Order calldata o) public view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                ORDER_TYPEHASH,
                o.salt,
                o.maker,
                o.signer,
                o.tokenId,
                o.makerAmount,
                o.takerAmount,
                o.side,
                o.signatureType,
                o.timestamp,
                o.metadata,
                o.builder
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
    }

    function getOrderStatus(bytes32 orderHash) external view returns (OrderStatus memory) {
        return orderStatus[orderHash];
    }

    // Check state and signature; return what is left of the maker amount before this fill.
    function _checkOrder(bytes32 orderHash, Order calldata o, uint256 fill)
        internal
        view
        returns (uint256 remaining)
    {
        OrderStatus storage status = orderStatus[orderHash];
        require(!status.filled, "order already filled");
        require(o.makerAmount > 0 && fill > 0, "zero maker amount");
        require(o.takerAmount > 0, "zero taker amount");
        remaining = status.remaining == 0 ? o.makerAmount : status.remaining;
        require(fill <= remaining, "making exceeds remaining");
        require(_validSignature(orderHash, o), "invalid signature");
    }

    function _consume(bytes32 orderHash, Order calldata o, uint256 fill) internal {
        OrderStatus storage status = orderStatus[orderHash];
        uint256 remaining = status.remaining == 0 ? o.makerAmount : status.remaining;
        require(!status.filled && fill <= remaining, "making exceeds remaining");
        remaining -= fill;
        status.remaining = uint248(remaining);
        status.filled = remaining == 0;
    }

    function _validSignature(bytes32 orderHash, Order calldata o) internal view returns (bool) {
        if (o.signatureType == 0) {
            return o.signer == o.maker && _recover(orderHash, o.signature) == o.signer;
        }
        if (o.signatureType == 1 || o.signatureType == 2) {
            return _recover(orderHash, o.signature) == o.signer;
        }
        if (o.signatureType == 3) {
            if (o.signer != o.maker) return false;
            if (o.maker.code.length == 0) return true;
            return IERC1271(o.maker).isValidSignature(orderHash, o.signature) == 0x1626ba7e;
        }
        return false;
    }

    function _recover(bytes32 digest, bytes calldata sig) private pure returns (address) {
        if (sig.length != 65) return address(0);
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        if (v < 27) v += 27;
        if (v != 27 && v != 28) return address(0);
        return ecrecover(digest, v, r, s);
    }
}
