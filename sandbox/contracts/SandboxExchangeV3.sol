// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {Order, TakerAmounts, SandboxOrdersV3} from "./SandboxOrdersV3.sol";

interface IV3Pusd {
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

interface IV3Positions {
    function moduleById(uint256 id) external view returns (address);
    function unsafeTransferFrom(address from, address to, uint256 id, uint256 amount) external;
}

interface IV3Module {
    function split(address[] calldata to, bytes31 conditionId, uint256 amount) external;
    function merge(address to, bytes31 conditionId, uint256 amount) external;
}

/// @title Sandbox ExchangeV3, placed at Protocol V2's ExchangeV3 address.
/// @notice Operator-only settlement of matched orders on PositionManager positions, with the
///         real entry point ``matchOrders(Order, Order[], uint256[], uint256[], TakerAmounts)``
///         and the real events. Maker fill amounts are in each maker's maker asset; a maker
///         receives ``fill * takerAmount / makerAmount`` (floored). When every maker is on the
///         opposite side of the taker's position, assets move directly between the parties;
///         otherwise makers on the other outcome are matched by splitting collateral into full
///         sets (all buying) or merging full sets (all selling) through the position's module.
///         Fees are the operator's: the taker's fee is paid in pUSD on top of a BUY's cost or
///         taken from a SELL's proceeds, capped at MAX_FEE_RATE basis points of the cash value.
///         Events per match: each maker's OrderFilled (taker = the taker order's maker), then
///         FeeCharged for a taker fee, then the taker's OrderFilled (taker = this exchange), then
///         OrdersMatched. Invariant: the exchange holds nothing after a call.
contract SandboxExchangeV3 is SandboxOrdersV3 {
    uint8 internal constant BUY = 0;
    uint8 internal constant SELL = 1;
    uint256 internal constant BPS = 10_000;

    // Running totals of one match, kept in memory to stay within the stack.
    struct Match {
        address taker;
        uint256 tokenId;
        uint256 fillAmount;
        uint256 takerFee;
        uint256 making;
        uint256 taking;
        uint256 makerFees;
        uint256 collateralIn;
        uint256 sharesIn;
        uint256 fullSets;
        uint256 sellNet;
    }

    address public POSITION_MANAGER;
    address public COLLATERAL_TOKEN;
    address public FEE_RECEIVER;
    uint256 public MAX_FEE_RATE;
    address public admin;
    bool public paused;
    mapping(address => bool) private _operators;

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

    /// Set the dependencies, the fee receiver and cap (bps) and the first operator, once.
    function initialize(address positionManager, address collateral, address feeReceiver,
        uint256 maxFeeRate, address operator) external
    {
        require(admin == address(0), "already initialised");
        require(maxFeeRate <= BPS, "max fee rate exceeds ceiling");
        POSITION_MANAGER = positionManager;
        COLLATERAL_TOKEN = collateral;
        FEE_RECEIVER = feeReceiver;
        MAX_FEE_RATE = maxFeeRate;
        admin = operator;
        _operators[operator] = true;
    }

    function isOperator(address who) external view returns (bool) {
        return _operators[who];
    }

    /// Revert unless ``fee`` is within the fee cap of ``cashValue``.
    function validateFee(uint256 fee, uint256 cashValue) public view {
        if (fee == 0 || MAX_FEE_RATE == 0) return;
        require(fee <= cashValue * MAX_FEE_RATE / BPS, "fee exceeds max rate");
    }

    /// Settle a taker order against maker orders (operator only).
    function matchOrders(
        Order calldata takerOrder,
        Order[] calldata makerOrders,
        uint256[] calldata makerFillAmounts,
        uint256[] calldata makerFeeAmounts,
        TakerAmounts calldata takerAmounts
    ) external {
        require(_operators[msg.sender], "only operator");
        require(!paused, "paused");
        require(makerOrders.length > 0, "no maker orders");
        require(
            makerFillAmounts.length == makerOrders.length
                && makerFeeAmounts.length == makerOrders.length,
            "mismatched array lengths"
        );
        require(takerOrder.tokenId & 0xff <= 1, "invalid token id");
        bytes32 takerHash = hashOrder(takerOrder);
        _checkOrder(takerHash, takerOrder, takerAmounts.takerFillAmount);
        Match memory m;
        m.taker = takerOrder.maker;
        m.tokenId = takerOrder.tokenId;
        m.fillAmount = takerAmounts.takerFillAmount;
        m.takerFee = takerAmounts.takerFeeAmount;
        if (_allDirect(takerOrder, makerOrders)) {
            _matchDirect(takerOrder, makerOrders, makerFillAmounts, makerFeeAmounts, m);
        } else if (takerOrder.side == BUY) {
            _matchMint(takerOrder, makerOrders, makerFillAmounts, makerFeeAmounts, m);
        } else {
            _matchMerge(takerOrder, makerOrders, makerFillAmounts, makerFeeAmounts, m);
        }
        require(m.taking == takerAmounts.takerReceiveAmount, "asset accounting mismatch");
        validateFee(m.takerFee, takerOrder.side == BUY ? m.making : m.taking);
        _consume(takerHash, takerOrder, m.making);
        _emitTaker(takerHash, takerOrder, m);
    }

    function _emitTaker(bytes32 takerHash, Order calldata t, Match memory m) private {
        emit OrderFilled(
            takerHash, t.maker, address(this), t.side, t.tokenId, m.making, m.taking, m.takerFee,
            t.builder, t.metadata
        );
        emit OrdersMatched(takerHash, t.maker, t.side, t.tokenId, m.making, m.taking);
    }

    function _allDirect(Order calldata t, Order[] calldata makers) private pure returns (bool) {
        for (uint256 i = 0; i < makers.length; i++) {
            if (makers[i].side == t.side || makers[i].tokenId != t.tokenId) return false;
        }
        return true;
    }

    // -- direct: every maker is on the other side of the taker's position ---------------------

    function _matchDirect(Order calldata t, Order[] calldata makers, uint256[] calldata fills,
        uint256[] calldata fees, Match memory m) private
    {
        for (uint256 i = 0; i < makers.length; i++) {
            _directFill(t, makers[i], fills[i], fees[i], m);
        }
        require(m.making <= m.fillAmount, "fill exceeds taker fill");
        require(m.taking >= m.making * t.takerAmount / t.makerAmount, "not crossing");
        if (m.takerFee > 0) emit FeeCharged(FEE_RECEIVER, m.takerFee);
        uint256 fees_ = m.makerFees + m.takerFee;
        if (t.side == BUY) {
            if (fees_ > 0) _pull(m.taker, FEE_RECEIVER, fees_);
        } else {
            require(m.takerFee <= m.taking, "fee exceeds proceeds");
            _pay(m.taker, m.taking - m.takerFee);
            if (fees_ > 0) _pay(FEE_RECEIVER, fees_);
        }
    }

    function _directFill(Order calldata t, Order calldata mk, uint256 fill, uint256 fee,
        Match memory m) private
    {
        require(t.makerAmount * mk.makerAmount >= t.takerAmount * mk.takerAmount, "not crossing");
        bytes32 h = _fillMaker(mk, fill, fee);
        uint256 taking = fill * mk.takerAmount / mk.makerAmount;
        if (t.side == BUY) {
            // the maker sells `fill` shares for `taking` pUSD, less its fee
            require(fee <= taking, "fee exceeds proceeds");
            _positions().unsafeTransferFrom(mk.maker, m.taker, m.tokenId, fill);
            _pull(m.taker, mk.maker, taking - fee);
        } else {
            // the maker buys `taking` shares for `fill` pUSD, plus its fee
            _pull(mk.maker, address(this), fill + fee);
            _positions().unsafeTransferFrom(m.taker, mk.maker, m.tokenId, taking);
        }
        m.making += taking;
        m.taking += fill;
        m.makerFees += fee;
        _emitMaker(h, mk, m.taker, fill, taking, fee);
    }

    // -- via the module: a BUY taker with buyers of the other outcome mints full sets ---------

    function _matchMint(Order calldata t, Order[] calldata makers, uint256[] calldata fills,
        uint256[] calldata fees, Match memory m) private
    {
        _pull(m.taker, address(this), m.fillAmount + m.takerFee);
        m.collateralIn = m.fillAmount + m.takerFee;
        uint256[] memory takings = new uint256[](makers.length);
        for (uint256 i = 0; i < makers.length; i++) {
            takings[i] = _collectForBuy(t, makers[i], fills[i], fees[i], m);
        }
        if (m.fullSets > 0) {
            address module = _module(m.tokenId);
            _pay(module, m.fullSets);
            address[] memory to = new address[](2);
            to[0] = address(this);
            to[1] = address(this);
            IV3Module(module).split(to, bytes31(bytes32(m.tokenId)), m.fullSets);
        }
        for (uint256 i = 0; i < makers.length; i++) {
            _payAfterMint(makers[i], takings[i], fees[i], m);
        }
        m.taking = m.sharesIn + m.fullSets;
        _positions().unsafeTransferFrom(address(this), m.taker, m.tokenId, m.taking);
        uint256 spent = m.fullSets + m.sellNet + m.makerFees + m.takerFee;
        require(m.collateralIn >= spent, "asset accounting mismatch");
        uint256 refund = m.collateralIn - spent;
        require(refund <= m.fillAmount, "asset accounting mismatch");
        m.making = m.fillAmount - refund;
        if (m.makerFees + m.takerFee > 0) _pay(FEE_RECEIVER, m.makerFees + m.takerFee);
        if (refund > 0) _pay(m.taker, refund);
        if (m.takerFee > 0) emit FeeCharged(FEE_RECEIVER, m.takerFee);
    }

    function _collectForBuy(Order calldata t, Order calldata mk, uint256 fill, uint256 fee,
        Match memory m) private returns (uint256 taking)
    {
        if (mk.side == SELL) {
            require(mk.tokenId == t.tokenId, "mismatched token ids");
            require(t.makerAmount * mk.makerAmount >= t.takerAmount * mk.takerAmount, "not crossing");
        } else {
            _requireComplement(t, mk);
            require(
                t.takerAmount * mk.makerAmount + mk.takerAmount * t.makerAmount
                    >= t.takerAmount * mk.takerAmount,
                "not crossing"
            );
        }
        bytes32 h = _fillMaker(mk, fill, fee);
        taking = fill * mk.takerAmount / mk.makerAmount;
        if (mk.side == SELL) {
            _positions().unsafeTransferFrom(mk.maker, address(this), mk.tokenId, fill);
            m.sharesIn += fill;
        } else {
            _pull(mk.maker, address(this), fill + fee);
            m.collateralIn += fill + fee;
            m.fullSets += taking;
        }
        _emitMaker(h, mk, m.taker, fill, taking, fee);
    }

    function _payAfterMint(Order calldata mk, uint256 taking, uint256 fee, Match memory m) private {
        if (mk.side == SELL) {
            require(fee <= taking, "fee exceeds proceeds");
            _pay(mk.maker, taking - fee);
            m.sellNet += taking - fee;
        } else {
            _positions().unsafeTransferFrom(address(this), mk.maker, mk.tokenId, taking);
        }
        m.makerFees += fee;
        if (fee > 0) emit FeeCharged(FEE_RECEIVER, fee);
    }

    // -- via the module: a SELL taker with sellers of the other outcome merges full sets ------

    function _matchMerge(Order calldata t, Order[] calldata makers, uint256[] calldata fills,
        uint256[] calldata fees, Match memory m) private
    {
        uint256[] memory takings = new uint256[](makers.length);
        for (uint256 i = 0; i < makers.length; i++) {
            takings[i] = _collectForSell(t, makers[i], fills[i], fees[i], m);
        }
        require(m.making == m.fillAmount, "taker fill mismatch");
        if (m.fullSets > 0) {
            address module = _module(m.tokenId);
            _positions().unsafeTransferFrom(m.taker, module, m.tokenId, m.fullSets);
            IV3Module(module).merge(address(this), bytes31(bytes32(m.tokenId)), m.fullSets);
            m.collateralIn += m.fullSets;
        }
        for (uint256 i = 0; i < makers.length; i++) {
            Order calldata mk = makers[i];
            if (mk.side == SELL) {
                require(fees[i] <= takings[i], "fee exceeds proceeds");
                _pay(mk.maker, takings[i] - fees[i]);
                m.sellNet += takings[i] - fees[i];
            }
            m.makerFees += fees[i];
            if (fees[i] > 0) emit FeeCharged(FEE_RECEIVER, fees[i]);
        }
        require(m.collateralIn >= m.sellNet + m.makerFees, "asset accounting mismatch");
        m.taking = m.collateralIn - m.sellNet - m.makerFees;
        require(m.takerFee <= m.taking, "fee exceeds proceeds");
        _pay(m.taker, m.taking - m.takerFee);
        if (m.makerFees + m.takerFee > 0) _pay(FEE_RECEIVER, m.makerFees + m.takerFee);
        if (m.takerFee > 0) emit FeeCharged(FEE_RECEIVER, m.takerFee);
    }

    function _collectForSell(Order calldata t, Order calldata mk, uint256 fill, uint256 fee,
        Match memory m) private returns (uint256 taking)
    {
        if (mk.side == BUY) {
            require(mk.tokenId == t.tokenId, "mismatched token ids");
            require(t.makerAmount * mk.makerAmount >= t.takerAmount * mk.takerAmount, "not crossing");
        } else {
            _requireComplement(t, mk);
            require(
                t.takerAmount * mk.makerAmount + mk.takerAmount * t.makerAmount
                    <= t.makerAmount * mk.makerAmount,
                "not crossing"
            );
        }
        bytes32 h = _fillMaker(mk, fill, fee);
        taking = fill * mk.takerAmount / mk.makerAmount;
        if (mk.side == BUY) {
            _pull(mk.maker, address(this), fill + fee);
            m.collateralIn += fill + fee;
            _positions().unsafeTransferFrom(m.taker, mk.maker, m.tokenId, taking);
            m.making += taking;
        } else {
            _positions().unsafeTransferFrom(mk.maker, _module(mk.tokenId), mk.tokenId, fill);
            m.fullSets += fill;
            m.making += fill;
        }
        _emitMaker(h, mk, m.taker, fill, taking, fee);
    }

    // -- helpers ---------------------------------------------------------------------------

    function _fillMaker(Order calldata mk, uint256 fill, uint256 fee) private returns (bytes32 h) {
        h = hashOrder(mk);
        _checkOrder(h, mk, fill);
        validateFee(fee, mk.side == BUY ? fill : fill * mk.takerAmount / mk.makerAmount);
        _consume(h, mk, fill);
    }

    function _emitMaker(bytes32 h, Order calldata mk, address taker, uint256 fill, uint256 taking,
        uint256 fee) private
    {
        emit OrderFilled(h, mk.maker, taker, mk.side, mk.tokenId, fill, taking, fee, mk.builder,
            mk.metadata);
    }

    function _requireComplement(Order calldata t, Order calldata mk) private pure {
        require(
            bytes31(bytes32(t.tokenId)) == bytes31(bytes32(mk.tokenId))
                && (t.tokenId & 0xff) + (mk.tokenId & 0xff) == 1,
            "invalid complement"
        );
    }

    function _positions() private view returns (IV3Positions) {
        return IV3Positions(POSITION_MANAGER);
    }

    function _module(uint256 positionId) private view returns (address module) {
        module = _positions().moduleById(positionId >> 248);
        require(module != address(0), "module not registered");
    }

    function _pull(address from, address to, uint256 amount) private {
        if (amount > 0) require(IV3Pusd(COLLATERAL_TOKEN).transferFrom(from, to, amount), "pay");
    }

    function _pay(address to, uint256 amount) private {
        if (amount > 0) require(IV3Pusd(COLLATERAL_TOKEN).transfer(to, amount), "pay");
    }
}
