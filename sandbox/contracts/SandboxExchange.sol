// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

interface IERC20Transfer {
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

interface IERC20Approve {
    function approve(address spender, uint256 amount) external returns (bool);
    function transfer(address to, uint256 amount) external returns (bool);
}

interface IERC1155Transfer {
    function safeTransferFrom(address from, address to, uint256 id, uint256 value, bytes calldata data)
        external;
}

interface IConditionalTokens {
    function splitPosition(address collateral, bytes32 parent, bytes32 conditionId,
        uint256[] calldata partition, uint256 amount) external;
    function mergePositions(address collateral, bytes32 parent, bytes32 conditionId,
        uint256[] calldata partition, uint256 amount) external;
}

/// @title Sandbox settlement contract placed at both CTF Exchange V2 addresses.
/// @notice Only the sandbox operator (the local CLOB) may settle. It moves pUSD and outcome tokens
///         directly between the matched parties (who approved this contract, as on Polymarket) and
///         emits the exact V2 OrderFilled event: one per maker order (maker = that order's funder,
///         taker = the taker order's funder), then one for the taker order (taker = this exchange),
///         then OrdersMatched. ``settle`` matches orders on the same token (shares for pUSD);
///         ``settleComplement`` matches a taker with makers on the other outcome of a binary
///         condition, minting (both BUY) or merging (both SELL) full sets through ConditionalTokens.
///         The operator's taker fee is paid in pUSD on top of a BUY's cost or taken from a SELL's
///         proceeds, capped at ``maxFeeRate`` basis points of the cash value, and reported in the
///         taker's OrderFilled and in FeeCharged (emitted before the taker's OrderFilled).
///         Invariants: amounts add up exactly, and this contract holds nothing after a call.
contract SandboxExchange {
    uint8 internal constant BUY = 0;
    uint8 internal constant SELL = 1;

    struct Fill {
        bytes32 orderHash;
        address maker;
        uint8 side;
        uint256 tokenId;
        uint256 making;
        uint256 taking;
        bytes32 builder;
        bytes32 metadata;
    }

    address public operator;
    address public collateral;
    address public ctf;
    address public feeReceiver;
    uint256 public maxFeeRate;

    event OrderFilled(
        bytes32 indexed orderHash,
        address indexed maker,
        address indexed taker,
        uint8 side,
        uint256 tokenId,
        uint256 makerAmountFilled,
        uint256 takerAmountFilled,
        uint256 fee,
        bytes32 builder,
        bytes32 metadata
    );

    event OrdersMatched(
        bytes32 indexed takerOrderHash,
        address indexed takerOrderMaker,
        uint8 side,
        uint256 tokenId,
        uint256 makerAmountFilled,
        uint256 takerAmountFilled
    );

    event FeeCharged(address indexed receiver, uint256 amount);

    /// Set the operator, token addresses and fee receiver and cap (bps) once (the code is placed
    /// without a constructor).
    function initialize(address operator_, address collateral_, address ctf_,
        address feeReceiver_, uint256 maxFeeRate_) external
    {
        require(operator == address(0), "already initialised");
        require(maxFeeRate_ <= 10_000, "max fee rate exceeds ceiling");
        operator = operator_;
        collateral = collateral_;
        ctf = ctf_;
        feeReceiver = feeReceiver_;
        maxFeeRate = maxFeeRate_;
        require(IERC20Approve(collateral_).approve(ctf_, type(uint256).max), "approve");
    }

    function onERC1155Received(address, address, uint256, uint256, bytes calldata)
        external
        pure
        returns (bytes4)
    {
        return this.onERC1155Received.selector;
    }

    function onERC1155BatchReceived(address, address, uint256[] calldata, uint256[] calldata,
        bytes calldata) external pure returns (bytes4)
    {
        return this.onERC1155BatchReceived.selector;
    }

    /// Settle one taker order against its maker orders; the taker pays ``takerFee``.
    function settle(Fill calldata taker, Fill[] calldata makers, uint256 takerFee) external {
        require(msg.sender == operator, "only operator");
        require(makers.length > 0, "no makers");
        uint256 making;
        uint256 taking;
        for (uint256 i = 0; i < makers.length; i++) {
            Fill calldata m = makers[i];
            require(m.tokenId == taker.tokenId, "token mismatch");
            require(m.side != taker.side, "same side");
            _transfer(m, taker.maker);
            making += m.taking;
            taking += m.making;
            emit OrderFilled(
                m.orderHash, m.maker, taker.maker, m.side, m.tokenId, m.making, m.taking, 0,
                m.builder, m.metadata
            );
        }
        require(making == taker.making && taking == taker.taking, "amounts mismatch");
        _chargeTaker(taker, takerFee);
        _emitFill(taker, address(this), takerFee);
        emit OrdersMatched(
            taker.orderHash, taker.maker, taker.side, taker.tokenId, taker.making, taker.taking
        );
    }

    /// Settle a taker against makers on the complementary outcome (mint or merge full sets).
    function settleComplement(Fill calldata taker, Fill[] calldata makers, bytes32 conditionId,
        uint256 takerFee) external
    {
        require(msg.sender == operator, "only operator");
        uint256 sets = _checkComplement(taker, makers);
        if (taker.side == BUY) {
            _mint(taker, makers, conditionId, sets);
        } else {
            _merge(taker, makers, conditionId, sets);
        }
        for (uint256 i = 0; i < makers.length; i++) {
            _emitFill(makers[i], taker.maker, 0);
        }
        _chargeTaker(taker, takerFee);
        _emitFill(taker, address(this), takerFee);
        emit OrdersMatched(
            taker.orderHash, taker.maker, taker.side, taker.tokenId, taker.making, taker.taking
        );
    }

    // Both sides trade the same number of full sets, and the pUSD adds up to one unit per set.
    function _checkComplement(Fill calldata taker, Fill[] calldata makers)
        private
        pure
        returns (uint256 sets)
    {
        require(makers.length > 0, "no makers");
        sets = taker.side == BUY ? taker.taking : taker.making;
        uint256 makerSets;
        uint256 cash = taker.side == BUY ? taker.making : taker.taking;
        for (uint256 i = 0; i < makers.length; i++) {
            Fill calldata m = makers[i];
            require(m.side == taker.side && m.tokenId != taker.tokenId, "not complementary");
            makerSets += m.side == BUY ? m.taking : m.making;
            cash += m.side == BUY ? m.making : m.taking;
        }
        require(makerSets == sets && cash == sets, "amounts mismatch");
    }

    function _emitFill(Fill calldata f, address counterparty, uint256 fee) private {
        emit OrderFilled(
            f.orderHash, f.maker, counterparty, f.side, f.tokenId, f.making, f.taking, fee,
            f.builder, f.metadata
        );
    }

    // A BUY taker paid its cost to the makers (or this contract) and pays the fee on top; a SELL
    // taker's proceeds are with this contract and it receives them less the fee.
    function _chargeTaker(Fill calldata taker, uint256 fee) private {
        uint256 cash = taker.side == BUY ? taker.making : taker.taking;
        require(fee <= cash * maxFeeRate / 10_000, "fee exceeds max rate");
        IERC20Approve pusd = IERC20Approve(collateral);
        if (taker.side == BUY) {
            if (fee > 0) {
                require(IERC20Transfer(collateral).transferFrom(taker.maker, feeReceiver, fee), "fee");
            }
        } else {
            require(pusd.transfer(taker.maker, taker.taking - fee), "pay");
            if (fee > 0) require(pusd.transfer(feeReceiver, fee), "fee");
        }
        if (fee > 0) emit FeeCharged(feeReceiver, fee);
    }

    // Every buyer pays its part of 1 pUSD per set; the sets are split and each side gets its token.
    function _mint(Fill calldata taker, Fill[] calldata makers, bytes32 conditionId, uint256 sets)
        private
    {
        IERC20Transfer pusd = IERC20Transfer(collateral);
        require(pusd.transferFrom(taker.maker, address(this), taker.making), "pay");
        for (uint256 i = 0; i < makers.length; i++) {
            require(pusd.transferFrom(makers[i].maker, address(this), makers[i].making), "pay");
        }
        IConditionalTokens(ctf).splitPosition(collateral, bytes32(0), conditionId, _partition(), sets);
        IERC1155Transfer(ctf).safeTransferFrom(address(this), taker.maker, taker.tokenId, sets, "");
        for (uint256 i = 0; i < makers.length; i++) {
            IERC1155Transfer(ctf).safeTransferFrom(
                address(this), makers[i].maker, makers[i].tokenId, makers[i].taking, ""
            );
        }
    }

    // Every seller gives its shares; full sets are merged and each seller gets its part in pUSD.
    function _merge(Fill calldata taker, Fill[] calldata makers, bytes32 conditionId, uint256 sets)
        private
    {
        IERC1155Transfer(ctf).safeTransferFrom(taker.maker, address(this), taker.tokenId, sets, "");
        for (uint256 i = 0; i < makers.length; i++) {
            IERC1155Transfer(ctf).safeTransferFrom(
                makers[i].maker, address(this), makers[i].tokenId, makers[i].making, ""
            );
        }
        IConditionalTokens(ctf).mergePositions(collateral, bytes32(0), conditionId, _partition(), sets);
        IERC20Approve pusd = IERC20Approve(collateral);
        for (uint256 i = 0; i < makers.length; i++) {
            require(pusd.transfer(makers[i].maker, makers[i].taking), "pay");
        }
    }

    function _partition() private pure returns (uint256[] memory partition) {
        partition = new uint256[](2);
        partition[0] = 1;
        partition[1] = 2;
    }

    // A maker SELL gives shares for the taker's pUSD; a maker BUY gives pUSD (held here until the
    // SELL taker is paid less its fee) for the taker's shares.
    function _transfer(Fill calldata m, address counterparty) private {
        if (m.side == SELL) {
            IERC1155Transfer(ctf).safeTransferFrom(m.maker, counterparty, m.tokenId, m.making, "");
            require(IERC20Transfer(collateral).transferFrom(counterparty, m.maker, m.taking), "pay");
        } else {
            require(IERC20Transfer(collateral).transferFrom(m.maker, address(this), m.making), "pay");
            IERC1155Transfer(ctf).safeTransferFrom(counterparty, m.maker, m.tokenId, m.taking, "");
        }
    }
}
