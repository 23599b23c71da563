"""Train the Transformer notebook's small GPT data-parallel: the same script on one
process, on one machine or across machines.

    python examples/train_ddp.py                       # a world of one
    mpiexec -n 2 python examples/train_ddp.py          # two ranks on this machine
    mpiexec -f hosts -n 8 python examples/train_ddp.py # across machines (a hostfile)
    srun -n 8 python examples/train_ddp.py             # under Slurm

Every rank builds the model and reads the corpus; DistributedDataParallel copies rank 0's
weights to all, each global batch is split across the ranks, the gradients are averaged,
and every rank takes the same optimiser step.  Only rank 0 prints.
"""
import argparse

import numpy as np

import nnk
import nnk.distributed as dist
from nnk import nn, optim
from nnk.text import BPE
from nnk.textdata import CORPUS


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32, help="the global batch")
    parser.add_argument("--block", type=int, default=16)
    args = parser.parse_args()

    dist.init_process_group()
    rank, world = dist.get_rank(), dist.get_world_size()
    nnk.manual_seed(0)
    text = " ".join(CORPUS.read_text().split())
    tok = BPE.train(text, vocab_size=300)
    ids = tok.encode(text)
    starts = np.arange(len(ids) - args.block)
    X = np.stack([ids[s:s + args.block] for s in starts])
    Y = np.stack([ids[s + 1:s + args.block + 1] for s in starts])

    gpt = nn.GPT(tok.vocab_size, args.block, n_layer=2, n_head=2, n_embd=32)
    ddp = dist.DistributedDataParallel(gpt)
    opt = optim.AdamW(gpt.parameters(), lr=3e-3, weight_decay=0.01)
    if rank == 0:
        print(f"{world} rank(s), {nnk.get_num_threads()} thread(s) each; {len(X)} windows, "
              f"global batch {args.batch_size}")
    history = nnk.train(ddp, nn.NextTokenLoss(), opt, X, Y, epochs=args.epochs,
                        batch_size=args.batch_size)
    if rank == 0:
        print(history)
        sample = gpt.generate(ids[None, :4], 40, temperature=0.8, top_k=20, seed=1)
        print(repr(tok.decode(sample[0])))


if __name__ == "__main__":
    main()
