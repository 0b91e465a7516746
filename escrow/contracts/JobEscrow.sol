// JobEscrow.sol: holds render-job budgets in TSR, pays workers per verified task, and keeps worker stakes that can be slashed.
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title Tessera job escrow
/// @notice A requester funds a job with tokens; the farm's operator (the master) locks a price per task out of the
/// job's budget and releases it to the worker that rendered the task once the result is verified. Whatever is left
/// (unlocked budget and tasks locked but never released) goes back to the requester on refund, which the operator may
/// trigger at any time and anyone may trigger once the job's deadline has passed. Workers stake tokens as a bond; a
/// verifier can slash a stake (to the treasury) for a bad result, and an unstake only pays out after a cooldown.
/// @dev Every batch operation is idempotent so that the off-chain caller can simply retry a batch: re-locking or
/// re-releasing a task of the same job is skipped silently, a refund of a closed job does nothing, and a slash is
/// keyed by `slashId` and applied at most once. Ids (job, task, slash) are chosen off-chain.
contract JobEscrow is AccessControl, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Role that may lock and release task payments and refund a job before its deadline.
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    /// @notice Role that may slash worker stakes.
    bytes32 public constant VERIFIER_ROLE = keccak256("VERIFIER_ROLE");

    uint8 private constant TASK_NONE = 0;
    uint8 private constant TASK_LOCKED = 1;
    uint8 private constant TASK_RELEASED = 2;

    /// @notice A funded job: `available` is budget not yet locked to a task, `locked` is locked but not released.
    struct Job {
        address requester;
        uint64 deadline;
        bool closed;
        uint128 available;
        uint128 locked;
    }

    /// @notice A task's payment: its locked price and its state (0 None, 1 Locked, 2 Released). One storage slot; the
    /// job it belongs to is part of its key (see _taskKey), so it is not stored.
    struct Task {
        uint128 price;
        uint8 state;
    }

    /// @notice A worker's stake: `amount` is active (slashable, counted by stakeOf), `pending` waits for `unlockAt`
    /// before it can be withdrawn (and is still slashable until then).
    struct Stake {
        uint128 amount;
        uint128 pending;
        uint64 unlockAt;
    }

    /// @dev Running totals of one release() call: the job's budget and the payments, one per run of equal workers.
    struct ReleaseBatch {
        uint256 available;
        uint256 locked;
        uint256 runs;
        address[] payees;
        uint256[] amounts;
    }

    /// @notice Jobs by id.
    mapping(bytes32 => Job) public jobs;
    /// @dev Task payments by _taskKey(jobId, taskId): a task id is only meaningful within its job. Read with taskOf().
    mapping(bytes32 => Task) private tasks;
    /// @notice Worker stakes by worker address.
    mapping(address => Stake) public stakes;
    /// @notice Slash ids already applied.
    mapping(bytes32 => bool) public slashed;
    /// @notice The token jobs are paid and stakes are held in.
    IERC20 public immutable token;
    /// @notice Receiver of slashed stake.
    address public treasury;
    /// @notice Seconds between an unstake request and the withdrawal it allows.
    uint64 public immutable cooldown;

    error ZeroAmount();
    error ZeroAddress();
    error JobExists(bytes32 jobId);
    error UnknownJob(bytes32 jobId);
    error JobClosed(bytes32 jobId);
    error DeadlineInPast(uint64 deadline);
    error LengthMismatch();
    error InsufficientFunds(bytes32 jobId, uint256 needed, uint256 available);
    error PriceMismatch(bytes32 taskId, uint256 locked, uint256 given);
    error NotAllowed();
    error DeadlineNotReached(uint64 deadline);
    error InsufficientStake(uint256 requested, uint256 staked);
    error NothingPending();
    error CooldownActive(uint64 unlockAt);

    event JobFunded(bytes32 indexed jobId, address indexed requester, uint256 amount, uint64 deadline);
    event TaskLocked(bytes32 indexed jobId, bytes32 indexed taskId, uint256 price);
    event TaskReleased(bytes32 indexed jobId, bytes32 indexed taskId, address indexed worker, uint256 price);
    event JobRefunded(bytes32 indexed jobId, address indexed requester, uint256 amount);
    event Staked(address indexed worker, address indexed from, uint256 amount);
    event UnstakeRequested(address indexed worker, uint256 amount, uint64 unlockAt);
    event Withdrawn(address indexed worker, uint256 amount);
    event Slashed(address indexed worker, bytes32 indexed slashId, bytes32 indexed jobId, uint256 amount);
    event TreasuryChanged(address treasury);

    /// @notice Deploys the escrow for `token_`; `admin` gets the admin, operator and verifier roles.
    /// @param token_ The ERC-20 token jobs are paid and stakes are held in.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE, OPERATOR_ROLE and VERIFIER_ROLE.
    /// @param treasury_ Receiver of slashed stake.
    /// @param cooldown_ Seconds between an unstake request and the withdrawal.
    constructor(address token_, address admin, address treasury_, uint64 cooldown_) {
        if (token_ == address(0) || admin == address(0) || treasury_ == address(0)) revert ZeroAddress();
        token = IERC20(token_);
        treasury = treasury_;
        cooldown = cooldown_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(OPERATOR_ROLE, admin);
        _grantRole(VERIFIER_ROLE, admin);
    }

    // ---------------------------------------------------------------- jobs

    /// @notice Funds a new job `jobId` with `amount` tokens pulled from the caller, who becomes its requester.
    /// @dev The caller must have approved this contract for `amount`. A job id can be funded only once, ever.
    /// @param jobId Off-chain chosen job id; must not exist yet.
    /// @param amount Budget in token units; must be non-zero.
    /// @param deadline Unix time after which anyone may refund the job; must be in the future.
    function fund(bytes32 jobId, uint256 amount, uint64 deadline) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        Job storage job = jobs[jobId];
        if (job.requester != address(0)) revert JobExists(jobId);
        if (deadline <= block.timestamp) revert DeadlineInPast(deadline);
        job.requester = msg.sender;
        job.deadline = deadline;
        job.available = SafeCast.toUint128(amount);
        emit JobFunded(jobId, msg.sender, amount, deadline);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Locks `prices[i]` of job `jobId`'s available budget for task `taskIds[i]`, for every i.
    /// @dev Idempotent: a task already known for this job (locked or released) is skipped without an event, whatever
    /// price is given. Task ids are per job: the same id under another job is another task.
    /// @param jobId The job paying for the tasks; must exist and be open.
    /// @param taskIds Task ids; same length as `prices`.
    /// @param prices Non-zero price of each task, taken from the job's available budget.
    function lock(bytes32 jobId, bytes32[] calldata taskIds, uint256[] calldata prices)
        external
        onlyRole(OPERATOR_ROLE)
    {
        Job storage job = _openJob(jobId);
        uint256 n = taskIds.length;
        if (prices.length != n) revert LengthMismatch();
        uint256 available = job.available;
        uint256 locked = job.locked;
        for (uint256 i; i < n; ++i) {
            bytes32 taskId = taskIds[i];
            Task storage t = tasks[_taskKey(jobId, taskId)];
            uint256 word;
            assembly ("memory-safe") {
                word := sload(t.slot) // the whole Task in one SLOAD: 0 exactly when TASK_NONE (see _setTask)
            }
            if (word != 0) continue; // known task: locked or released
            uint256 price = prices[i];
            _checkLockable(jobId, price, available);
            unchecked {
                // price <= available was just checked, and available + locked never exceeds the funded uint128
                available -= price;
                locked += price;
            }
            _setTask(t, price, TASK_LOCKED);
            emit TaskLocked(jobId, taskId, price);
        }
        job.available = uint128(available);
        job.locked = uint128(locked);
    }

    /// @notice Pays task `taskIds[i]` of job `jobId` (price `prices[i]`) to `workers[i]`, for every i.
    /// @dev A task not locked yet is locked first from the available budget (as lock() does, with its TaskLocked
    /// event); a locked task must be released at exactly its locked price. Idempotent: a task already released is
    /// skipped without an event and never paid twice. Payments go out after all state changes, one transfer per run
    /// of consecutive tasks with the same worker, so callers should sort the batch by worker.
    /// @param jobId The job paying for the tasks; must exist and be open.
    /// @param taskIds Task ids; same length as `workers` and `prices`.
    /// @param workers Receiver of each task's price; non-zero.
    /// @param prices Price of each task: the locked price, or the price to lock for a task not locked yet.
    function release(
        bytes32 jobId,
        bytes32[] calldata taskIds,
        address[] calldata workers,
        uint256[] calldata prices
    ) external onlyRole(OPERATOR_ROLE) nonReentrant {
        Job storage job = _openJob(jobId);
        uint256 n = taskIds.length;
        if (workers.length != n || prices.length != n) revert LengthMismatch();
        ReleaseBatch memory b = ReleaseBatch({
            available: job.available,
            locked: job.locked,
            runs: 0,
            payees: new address[](n),
            amounts: new uint256[](n)
        });
        for (uint256 i; i < n; ++i) {
            _releaseTask(jobId, taskIds[i], workers[i], prices[i], b);
        }
        job.available = uint128(b.available);
        job.locked = uint128(b.locked);
        for (uint256 r; r < b.runs; ++r) {
            token.safeTransfer(b.payees[r], b.amounts[r]);
        }
    }

    /// @notice Closes job `jobId` and returns its whole remaining budget (available and locked) to its requester.
    /// @dev The operator may refund at any time; anyone else only once the deadline is reached, and the money always
    /// goes to the requester. Refunding a closed job does nothing. Tasks still locked can no longer be released.
    /// @param jobId The job to close; must exist.
    function refund(bytes32 jobId) external nonReentrant {
        Job storage job = jobs[jobId];
        address requester = job.requester;
        if (requester == address(0)) revert UnknownJob(jobId);
        if (job.closed) return;
        if (block.timestamp < job.deadline && !hasRole(OPERATOR_ROLE, msg.sender)) {
            revert DeadlineNotReached(job.deadline);
        }
        uint256 amount = uint256(job.available) + job.locked;
        job.available = 0;
        job.locked = 0;
        job.closed = true;
        emit JobRefunded(jobId, requester, amount);
        if (amount != 0) token.safeTransfer(requester, amount);
    }

    // ---------------------------------------------------------------- stakes

    /// @notice Stakes `amount` tokens, pulled from the caller, for the caller.
    /// @param amount Token units; non-zero.
    function stake(uint256 amount) external nonReentrant {
        _stake(msg.sender, amount);
    }

    /// @notice Stakes `amount` tokens, pulled from the caller, for `worker`.
    /// @param worker The worker credited with the stake; non-zero.
    /// @param amount Token units; non-zero.
    function stakeFor(address worker, uint256 amount) external nonReentrant {
        _stake(worker, amount);
    }

    /// @notice Moves `amount` of the caller's active stake to pending; it can be withdrawn after the cooldown.
    /// @dev A new request restarts the cooldown for everything pending. Pending stake can still be slashed.
    /// @param amount Token units; non-zero and at most the active stake.
    function requestUnstake(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Stake storage s = stakes[msg.sender];
        uint256 active = s.amount;
        if (amount > active) revert InsufficientStake(amount, active);
        uint64 unlockAt = uint64(block.timestamp) + cooldown;
        s.amount = uint128(active - amount);
        s.pending += uint128(amount);
        s.unlockAt = unlockAt;
        emit UnstakeRequested(msg.sender, amount, unlockAt);
    }

    /// @notice Pays the caller's whole pending stake out once its cooldown has passed.
    function withdraw() external nonReentrant {
        Stake storage s = stakes[msg.sender];
        uint256 amount = s.pending;
        if (amount == 0) revert NothingPending();
        if (block.timestamp < s.unlockAt) revert CooldownActive(s.unlockAt);
        s.pending = 0;
        s.unlockAt = 0;
        emit Withdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// @notice Takes up to `amount` of `worker`'s stake (active first, then pending) to the treasury, once per `slashId`.
    /// @dev Idempotent: a `slashId` already applied returns without effect. Takes at most what the worker has staked;
    /// the Slashed event carries the amount actually taken (possibly 0).
    /// @param worker The worker to slash; non-zero.
    /// @param amount Token units to take at most; non-zero.
    /// @param slashId Off-chain chosen id of this slash (e.g. hash of the failed verification).
    /// @param jobId The job the bad result belonged to, for the record.
    function slash(address worker, uint256 amount, bytes32 slashId, bytes32 jobId)
        external
        onlyRole(VERIFIER_ROLE)
        nonReentrant
    {
        if (amount == 0) revert ZeroAmount();
        if (worker == address(0)) revert ZeroAddress();
        if (slashed[slashId]) return;
        Stake storage s = stakes[worker];
        uint256 active = s.amount;
        uint256 pending = s.pending;
        uint256 take = amount < active + pending ? amount : active + pending;
        uint256 fromActive = take < active ? take : active;
        s.amount = uint128(active - fromActive);
        s.pending = uint128(pending - (take - fromActive));
        slashed[slashId] = true;
        emit Slashed(worker, slashId, jobId, take);
        if (take != 0) token.safeTransfer(treasury, take);
    }

    /// @notice The payment of task `taskId` of job `jobId`: its locked price and its state (0 None, 1 Locked,
    /// 2 Released); (0, 0) for a task never locked.
    /// @param jobId The job the task belongs to.
    /// @param taskId The task id, within its job.
    /// @return price The locked price in token units.
    /// @return state 0 None, 1 Locked, 2 Released.
    function taskOf(bytes32 jobId, bytes32 taskId) external view returns (uint128 price, uint8 state) {
        Task storage t = tasks[_taskKey(jobId, taskId)];
        return (t.price, t.state);
    }

    /// @notice The active (slashable, not pending) stake of `worker`.
    /// @param worker The worker.
    /// @return The active stake in token units.
    function stakeOf(address worker) external view returns (uint256) {
        return stakes[worker].amount;
    }

    // ---------------------------------------------------------------- admin

    /// @notice Sets the receiver of slashed stake.
    /// @param newTreasury The new treasury; non-zero.
    function setTreasury(address newTreasury) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newTreasury == address(0)) revert ZeroAddress();
        treasury = newTreasury;
        emit TreasuryChanged(newTreasury);
    }

    // ---------------------------------------------------------------- internals

    /// @dev The job `jobId`, reverting UnknownJob if it was never funded and JobClosed if it was refunded.
    function _openJob(bytes32 jobId) private view returns (Job storage job) {
        job = jobs[jobId];
        if (job.requester == address(0)) revert UnknownJob(jobId);
        if (job.closed) revert JobClosed(jobId);
    }

    /// @dev The key of task `taskId` of job `jobId` in `tasks`.
    function _taskKey(bytes32 jobId, bytes32 taskId) private pure returns (bytes32 key) {
        assembly ("memory-safe") {
            mstore(0x00, jobId)
            mstore(0x20, taskId)
            key := keccak256(0x00, 0x40)
        }
    }

    /// @dev Writes task `t` as `price` (non-zero and at most a uint128, checked by the caller) in `state` with a single
    /// SSTORE: the layout of Task is price in the low 128 bits of its slot, state in the next byte. A stored task's
    /// slot is therefore never 0, and 0 means TASK_NONE.
    function _setTask(Task storage t, uint256 price, uint8 state) private {
        assembly ("memory-safe") {
            sstore(t.slot, or(price, shl(128, state)))
        }
    }

    /// @dev Reverts unless `price` is non-zero and at most `available`.
    function _checkLockable(bytes32 jobId, uint256 price, uint256 available) private pure {
        if (price == 0) revert ZeroAmount();
        if (price > available) revert InsufficientFunds(jobId, price, available);
    }

    /// @dev Releases one task of release(): locks it first if unknown, skips it if already released, checks the
    /// price of a locked one, and adds its price to the batch's current payment run (or starts a new run).
    function _releaseTask(bytes32 jobId, bytes32 taskId, address worker, uint256 price, ReleaseBatch memory b)
        private
    {
        if (worker == address(0)) revert ZeroAddress();
        Task storage t = tasks[_taskKey(jobId, taskId)];
        uint256 word;
        assembly ("memory-safe") {
            word := sload(t.slot) // the whole Task in one SLOAD: 0 exactly when TASK_NONE (see _setTask)
        }
        if (word == 0) {
            _checkLockable(jobId, price, b.available);
            unchecked {
                b.available -= price; // price <= available was just checked
            }
            emit TaskLocked(jobId, taskId, price);
        } else {
            if (word >> 128 == TASK_RELEASED) return;
            uint256 lockedPrice = uint128(word);
            if (lockedPrice != price) revert PriceMismatch(taskId, lockedPrice, price);
            unchecked {
                b.locked -= price; // the job's locked total includes every task of it still locked
            }
        }
        _setTask(t, price, TASK_RELEASED);
        emit TaskReleased(jobId, taskId, worker, price);
        uint256 runs = b.runs;
        if (runs != 0 && b.payees[runs - 1] == worker) {
            unchecked {
                b.amounts[runs - 1] += price; // at most the job's budget, a uint128
            }
        } else {
            b.payees[runs] = worker;
            b.amounts[runs] = price;
            b.runs = runs + 1;
        }
    }

    /// @dev Credits `amount` to `worker`'s active stake and pulls it from the caller.
    function _stake(address worker, uint256 amount) private {
        if (amount == 0) revert ZeroAmount();
        if (worker == address(0)) revert ZeroAddress();
        Stake storage s = stakes[worker];
        s.amount = SafeCast.toUint128(s.amount + amount);
        emit Staked(worker, msg.sender, amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }
}
