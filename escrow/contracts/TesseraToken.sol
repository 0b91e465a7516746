// TesseraToken.sol: the TSR ERC-20 (6 decimals) that render jobs are paid in and worker stakes are held in.
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title Tessera Token (TSR)
/// @notice Plain OpenZeppelin ERC-20 with 6 decimals; the deployer owns it and may mint more.
/// @dev Amounts are in micro-TSR (1 TSR = 1_000_000 units), like USDC, so prices fit uint128 with room to spare.
contract TesseraToken is ERC20, Ownable {
    /// @notice Deploys the token and mints `initialSupply` units to the deployer, who becomes the owner.
    /// @param initialSupply Units (6 decimals) minted to msg.sender.
    constructor(uint256 initialSupply) ERC20("Tessera Token", "TSR") Ownable(msg.sender) {
        _mint(msg.sender, initialSupply);
    }

    /// @notice Number of decimals of the token's display unit: 6.
    /// @return Always 6.
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mints `amount` new units to `to`. Only the owner may mint.
    /// @param to Receiver of the new units.
    /// @param amount Units to mint.
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
