// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

interface IERC1155Receiver {
    function onERC1155Received(address, address, uint256, uint256, bytes calldata)
        external
        returns (bytes4);
    function onERC1155BatchReceived(address, address, uint256[] calldata, uint256[] calldata,
        bytes calldata) external returns (bytes4);
}

interface IPositionModule {
    function moduleId() external view returns (uint256);
    function getPayout(uint256 positionId, uint256 amount) external view returns (uint256);
}

/// @title Sandbox PositionManager, placed at Protocol V2's PositionManager address.
/// @notice An ERC-1155 ledger of position ids with the entry points ProjectK, the SDK, the
///         Router and ExchangeV3 use: balances (also by condition id and outcome index),
///         approvals, safe and "unsafe" (callback-free) transfers, module-only mint and burn, and
///         payouts read through the position's module. A position id's top byte names its module
///         (1 = binary), so only that module may mint or burn it.
///         Invariants: a balance changes only by a transfer, a module mint or a module burn; every
///         change emits TransferSingle or TransferBatch; the code is placed without a constructor,
///         so ``initialize`` sets the collateral and the admin once.
contract SandboxPositionManager {
    address public COLLATERAL_TOKEN;
    address public admin;
    mapping(uint256 => address) public moduleById;
    mapping(address => mapping(address => bool)) public isApprovedForAll;
    mapping(uint256 => mapping(address => uint256)) private _balances;

    event TransferSingle(
        address indexed operator, address indexed from, address indexed to, uint256 id, uint256 value
    );
    event TransferBatch(
        address indexed operator,
        address indexed from,
        address indexed to,
        uint256[] ids,
        uint256[] values
    );
    event ApprovalForAll(address indexed account, address indexed operator, bool approved);
    event ModuleAdded(uint256 indexed moduleId, address indexed module);

    /// Set the collateral token and the admin once (the code is placed without a constructor).
    function initialize(address collateral, address admin_) external {
        require(admin == address(0), "already initialised");
        COLLATERAL_TOKEN = collateral;
        admin = admin_;
    }

    /// Register a module under the id it reports.
    function addModule(address module) external {
        require(msg.sender == admin, "only admin");
        uint256 id = IPositionModule(module).moduleId();
        require(moduleById[id] == address(0), "module already registered");
        moduleById[id] = module;
        emit ModuleAdded(id, module);
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == 0x01ffc9a7 || interfaceId == 0xd9b67a26 || interfaceId == 0x0e89341c;
    }

    function uri(uint256) external pure returns (string memory) {
        return "https://polymarket.com/position/{id}";
    }

    function balanceOf(address owner, uint256 id) public view returns (uint256) {
        return _balances[id][owner];
    }

    /// Balance of a condition's outcome (0 = YES, 1 = NO).
    function balanceOf(address owner, bytes31 conditionId, uint256 outcomeIndex)
        external
        view
        returns (uint256)
    {
        return _balances[uint256(bytes32(conditionId)) | outcomeIndex][owner];
    }

    function balanceOfBatch(address[] calldata owners, uint256[] calldata ids)
        external
        view
        returns (uint256[] memory out)
    {
        require(owners.length == ids.length, "length mismatch");
        out = new uint256[](ids.length);
        for (uint256 i = 0; i < ids.length; i++) {
            out[i] = _balances[ids[i]][owners[i]];
        }
    }

    function setApprovalForAll(address operator, bool approved) external {
        isApprovedForAll[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    function safeTransferFrom(address from, address to, uint256 id, uint256 amount,
        bytes calldata data) external
    {
        _transfer(from, to, id, amount);
        if (to.code.length > 0) {
            bytes4 answer = IERC1155Receiver(to).onERC1155Received(msg.sender, from, id, amount, data);
            require(answer == IERC1155Receiver.onERC1155Received.selector, "receiver rejected");
        }
    }

    function safeBatchTransferFrom(address from, address to, uint256[] calldata ids,
        uint256[] calldata amounts, bytes calldata data) external
    {
        _batchTransfer(from, to, ids, amounts);
        if (to.code.length > 0) {
            bytes4 answer = IERC1155Receiver(to).onERC1155BatchReceived(
                msg.sender, from, ids, amounts, data
            );
            require(answer == IERC1155Receiver.onERC1155BatchReceived.selector, "receiver rejected");
        }
    }

    /// Transfer without the receiver callback (the Router and ExchangeV3 move positions this way).
    function unsafeTransferFrom(address from, address to, uint256 id, uint256 amount) external {
        _transfer(from, to, id, amount);
    }

    function unsafeBatchTransferFrom(address from, address to, uint256[] calldata ids,
        uint256[] calldata amounts) external
    {
        _batchTransfer(from, to, ids, amounts);
    }

    /// Mint a position (only its own module).
    function mint(address to, uint256 id, uint256 amount) external {
        _onlyModuleOf(id);
        require(to != address(0), "mint to zero");
        _balances[id][to] += amount;
        emit TransferSingle(msg.sender, address(0), to, id, amount);
    }

    /// Burn a position the calling module holds (only its own module).
    function burn(uint256 id, uint256 amount) external {
        _onlyModuleOf(id);
        require(_balances[id][msg.sender] >= amount, "insufficient balance");
        _balances[id][msg.sender] -= amount;
        emit TransferSingle(msg.sender, msg.sender, address(0), id, amount);
    }

    /// Collateral owed for ``amount`` of a resolved position (reverts while unresolved).
    function getPayout(uint256 positionId, uint256 amount) external view returns (uint256) {
        address module = moduleById[positionId >> 248];
        require(module != address(0), "module not registered");
        return IPositionModule(module).getPayout(positionId, amount);
    }

    function _onlyModuleOf(uint256 id) private view {
        require(moduleById[id >> 248] == msg.sender, "only the position's module");
    }

    function _authorise(address from) private view {
        require(msg.sender == from || isApprovedForAll[from][msg.sender], "not owner nor approved");
    }

    function _move(address from, address to, uint256 id, uint256 amount) private {
        require(to != address(0), "transfer to zero");
        require(_balances[id][from] >= amount, "insufficient balance");
        _balances[id][from] -= amount;
        _balances[id][to] += amount;
    }

    function _transfer(address from, address to, uint256 id, uint256 amount) private {
        _authorise(from);
        _move(from, to, id, amount);
        emit TransferSingle(msg.sender, from, to, id, amount);
    }

    function _batchTransfer(address from, address to, uint256[] calldata ids,
        uint256[] calldata amounts) private
    {
        require(ids.length == amounts.length, "length mismatch");
        _authorise(from);
        for (uint256 i = 0; i < ids.length; i++) {
            _move(from, to, ids[i], amounts[i]);
        }
        emit TransferBatch(msg.sender, from, to, ids, amounts);
    }
}
