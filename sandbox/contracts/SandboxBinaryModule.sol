// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

interface IPusd {
    function balanceOf(address owner) external view returns (uint256);
    function transfer(address to, uint256 amount) external returns (bool);
}

interface IPositions {
    function mint(address to, uint256 id, uint256 amount) external;
    function burn(uint256 id, uint256 amount) external;
}

/// @title Sandbox binary module (module id 1), placed at Protocol V2's BinaryModule address.
/// @notice Owns binary YES/NO positions in the PositionManager. Callers pre-transfer what an
///         operation consumes (the pre-transfer pattern the Router and ExchangeV3 use): collateral
///         before ``split``, both positions before ``merge``, the position before ``redeem``. A
///         condition id is ``[module id (8 bits) | low 128 bits of keccak256(abi.encode(1, data))
///         | 112 zero bits]`` (bytes31); a position id is the condition id followed by the outcome
///         byte (0 = YES, 1 = NO). Conditions need no preparation. The resolver reports a payout
///         vector summing to 1e6 once.
///         Invariant: ``escrow`` (collateral held for outstanding positions) equals the
///         collateral of every split minus every merge and payout, and never exceeds the balance.
contract SandboxBinaryModule {
    uint256 internal constant RESULT_DENOMINATOR = 1_000_000;

    address public POSITION_MANAGER;
    address public COLLATERAL_TOKEN;
    address public resolver;
    uint256 public escrow;
    mapping(bytes31 => uint256[]) private _results;

    event ResultReported(address indexed resolver, bytes31 indexed conditionId, uint256[] result);
    event ConditionResolved(bytes31 indexed conditionId, uint256[] result);
    event PositionsSplit(
        address indexed initiator,
        bytes31 indexed conditionId,
        address indexed recipient0,
        address recipient1,
        uint256 amount
    );
    event PositionsMerged(
        address indexed initiator, bytes31 indexed conditionId, address indexed recipient, uint256 amount
    );
    event PositionRedeemed(
        address indexed initiator,
        uint256 indexed positionId,
        address indexed recipient,
        uint256 amount,
        uint256 payout
    );

    /// Set the PositionManager, the collateral and the resolver once.
    function initialize(address positionManager, address collateral, address resolver_) external {
        require(POSITION_MANAGER == address(0), "already initialised");
        POSITION_MANAGER = positionManager;
        COLLATERAL_TOKEN = collateral;
        resolver = resolver_;
    }

    function moduleId() external pure returns (uint256) {
        return 1;
    }

    /// Derive the condition id of a binary question from its data.
    function getConditionId(bytes calldata data) external pure returns (bytes31) {
        uint256 base = uint256(keccak256(abi.encode(uint256(1), data))) & type(uint128).max;
        return bytes31(bytes32((uint256(1) << 248) | (base << 120)));
    }

    /// Mint ``amount`` YES to ``to[0]`` and NO to ``to[1]`` for collateral already received.
    function split(address[] calldata to, bytes31 conditionId, uint256 amount) external {
        require(to.length == 2, "two recipients");
        require(
            IPusd(COLLATERAL_TOKEN).balanceOf(address(this)) >= escrow + amount,
            "collateral not received"
        );
        escrow += amount;
        IPositions(POSITION_MANAGER).mint(to[0], _position(conditionId, 0), amount);
        IPositions(POSITION_MANAGER).mint(to[1], _position(conditionId, 1), amount);
        emit PositionsSplit(msg.sender, conditionId, to[0], to[1], amount);
    }

    /// Burn ``amount`` of both positions already received and pay ``amount`` collateral to ``to``.
    function merge(address to, bytes31 conditionId, uint256 amount) external {
        IPositions(POSITION_MANAGER).burn(_position(conditionId, 0), amount);
        IPositions(POSITION_MANAGER).burn(_position(conditionId, 1), amount);
        escrow -= amount;
        require(IPusd(COLLATERAL_TOKEN).transfer(to, amount), "pay");
        emit PositionsMerged(msg.sender, conditionId, to, amount);
    }

    /// Burn a resolved position already received and pay its payout to ``to``.
    function redeem(address to, uint256 positionId, uint256 amount) external {
        uint256 payout = getPayout(positionId, amount);
        IPositions(POSITION_MANAGER).burn(positionId, amount);
        escrow -= payout;
        require(IPusd(COLLATERAL_TOKEN).transfer(to, payout), "pay");
        emit PositionRedeemed(msg.sender, positionId, to, amount, payout);
    }

    /// Record the payout vector [yes, no] (summing to 1e6) of a condition, once.
    function reportResult(bytes31 conditionId, uint256[] calldata result_) external {
        require(msg.sender == resolver, "only resolver");
        require(uint8(conditionId[0]) == 1, "not a binary condition");
        require(_results[conditionId].length == 0, "already resolved");
        require(result_.length == 2, "two outcomes");
        require(result_[0] + result_[1] == RESULT_DENOMINATOR, "results must sum to 1e6");
        _results[conditionId] = result_;
        emit ConditionResolved(conditionId, result_);
        emit ResultReported(msg.sender, conditionId, result_);
    }

    function getResult(bytes31 conditionId) external view returns (uint256[] memory) {
        return _results[conditionId];
    }

    function result(bytes31 conditionId, uint256 index) external view returns (uint256) {
        return _results[conditionId][index];
    }

    function hasResult(bytes31 conditionId) external view returns (bool) {
        return _results[conditionId].length > 0;
    }

    /// Collateral owed for ``amount`` of a position; reverts while its condition is unresolved.
    function getPayout(uint256 positionId, uint256 amount) public view returns (uint256) {
        uint256 outcome = positionId & 0xff;
        require(outcome < 2, "invalid outcome index");
        uint256[] storage r = _results[bytes31(bytes32(positionId))];
        require(r.length == 2, "condition not resolved");
        return amount * r[outcome] / RESULT_DENOMINATOR;
    }

    function _position(bytes31 conditionId, uint256 outcome) private pure returns (uint256) {
        return uint256(bytes32(conditionId)) | outcome;
    }
}
