// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

interface IRouterPusd {
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

interface IRouterPositions {
    function moduleById(uint256 id) external view returns (address);
    function unsafeTransferFrom(address from, address to, uint256 id, uint256 amount) external;
}

interface IRouterModule {
    function split(address[] calldata to, bytes31 conditionId, uint256 amount) external;
    function merge(address to, bytes31 conditionId, uint256 amount) external;
    function redeem(address to, uint256 positionId, uint256 amount) external;
}

/// @title Sandbox Router, placed at Protocol V2's Router address.
/// @notice The user entry point for split, merge and redeem with Protocol V2's signatures
///         (``split(bytes31,uint256)``, ``merge(bytes31,uint256)``,
///         ``redeem(bytes31,uint256,uint256)``): it pre-transfers the caller's collateral or
///         positions to the condition's module (named by the condition id's top byte) and calls
///         the module, which pays the caller. Users approve the Router for pUSD and positions.
///         Invariant: the Router holds nothing between calls.
contract SandboxRouter {
    address public POSITION_MANAGER;
    address public COLLATERAL_TOKEN;

    event RouterPositionSplit(address indexed initiator, bytes31 indexed conditionId, uint256 amount);
    event RouterPositionsMerged(
        address indexed initiator, bytes31 indexed conditionId, uint256 amount
    );
    event RouterPositionRedeemed(
        address indexed initiator, uint256 indexed positionId, uint256 amount
    );

    error InvalidOutcomeIndex();

    /// Set the PositionManager and the collateral once.
    function initialize(address positionManager, address collateral) external {
        require(POSITION_MANAGER == address(0), "already initialised");
        POSITION_MANAGER = positionManager;
        COLLATERAL_TOKEN = collateral;
    }

    /// Split ``amount`` collateral of the caller into YES and NO positions for the caller.
    function split(bytes31 conditionId, uint256 amount) external {
        address module = _module(conditionId);
        require(IRouterPusd(COLLATERAL_TOKEN).transferFrom(msg.sender, module, amount), "pay");
        address[] memory to = new address[](2);
        to[0] = msg.sender;
        to[1] = msg.sender;
        IRouterModule(module).split(to, conditionId, amount);
        emit RouterPositionSplit(msg.sender, conditionId, amount);
    }

    /// Merge ``amount`` of the caller's YES and NO positions back into collateral.
    function merge(bytes31 conditionId, uint256 amount) external {
        address module = _module(conditionId);
        IRouterPositions pm = IRouterPositions(POSITION_MANAGER);
        pm.unsafeTransferFrom(msg.sender, module, _position(conditionId, 0), amount);
        pm.unsafeTransferFrom(msg.sender, module, _position(conditionId, 1), amount);
        IRouterModule(module).merge(msg.sender, conditionId, amount);
        emit RouterPositionsMerged(msg.sender, conditionId, amount);
    }

    /// Redeem ``amount`` of the caller's resolved position (0 = YES, 1 = NO) for its payout.
    function redeem(bytes31 conditionId, uint256 outcomeIndex, uint256 amount) external {
        if (outcomeIndex > 1) revert InvalidOutcomeIndex();
        address module = _module(conditionId);
        uint256 positionId = _position(conditionId, outcomeIndex);
        IRouterPositions(POSITION_MANAGER).unsafeTransferFrom(msg.sender, module, positionId, amount);
        IRouterModule(module).redeem(msg.sender, positionId, amount);
        emit RouterPositionRedeemed(msg.sender, positionId, amount);
    }

    function _module(bytes31 conditionId) private view returns (address module) {
        module = IRouterPositions(POSITION_MANAGER).moduleById(uint8(conditionId[0]));
        require(module != address(0), "module not registered");
    }

    function _position(bytes31 conditionId, uint256 outcome) private pure returns (uint256) {
        return uint256(bytes32(conditionId)) | outcome;
    }
}
