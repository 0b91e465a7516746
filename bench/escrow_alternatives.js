// escrow_alternatives: what paying N pieces costs without tessera's batching, on the same chain and contracts:
// one JobEscrow release per piece (a settlement per accepted task), and a plain ERC-20 transfer per piece (no
// escrow at all). Prints JSON. Usage: node escrow_alternatives.js RPC TOKEN ESCROW PIECES PRICE WORKER...
const http = require("http");
const path = require("path");
const { ethers } = require(path.join(__dirname, "..", "escrow", "contracts", "node_modules", "ethers"));

const ANVIL_KEY0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

async function main() {
  const [rpc, tokenAddr, escrowAddr, piecesText, priceText, ...workers] = process.argv.slice(2);
  const pieces = Number(piecesText), price = BigInt(priceText);
  // one connection per request: a kept-alive connection to anvil now and then never gets its answer
  const req = new ethers.FetchRequest(rpc);
  req.getUrlFunc = ethers.FetchRequest.createGetUrlFunc({ agent: new http.Agent({ keepAlive: false }) });
  const provider = new ethers.JsonRpcProvider(req, undefined, { staticNetwork: true, polling: true, pollingInterval: 50 });
  const signer = new ethers.NonceManager(new ethers.Wallet(ANVIL_KEY0, provider));
  const token = new ethers.Contract(tokenAddr, [
    "function approve(address,uint256) returns (bool)", "function transfer(address,uint256) returns (bool)"], signer);
  const escrow = new ethers.Contract(escrowAddr, [
    "function fund(bytes32,uint256,uint64)", "function release(bytes32,bytes32[],address[],uint256[])",
    "function refund(bytes32)"], signer);
  const gasOf = async (txp) => (await (await txp).wait()).gasUsed;
  const job = ethers.id(`bench-alternative-${Date.now()}-${Math.random()}`);
  const budget = price * BigInt(pieces);
  let escrowGas = 0n, escrowTxs = 0;
  escrowGas += await gasOf(token.approve(escrowAddr, budget)); escrowTxs++;
  const deadline = Math.floor(Date.now() / 1000) + 86400;
  escrowGas += await gasOf(escrow.fund(job, budget, deadline)); escrowTxs++;
  for (let i = 0; i < pieces; i++) {
    escrowGas += await gasOf(escrow.release(job, [ethers.id(`${job}-${i}`)], [workers[i % workers.length]], [price]));
    escrowTxs++;
  }
  escrowGas += await gasOf(escrow.refund(job)); escrowTxs++;
  let transferGas = 0n;
  for (let i = 0; i < pieces; i++)
    transferGas += await gasOf(token.transfer(workers[i % workers.length], price));
  console.log(JSON.stringify({
    per_task_escrow: { gas: Number(escrowGas), transactions: escrowTxs },
    transfers: { gas: Number(transferGas), transactions: pieces },
  }));
}
main().catch((e) => { console.error(e.message); process.exit(1); });
