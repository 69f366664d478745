"""torch.distributed gloo send/recv between two processes: the peer baseline for the
benchmark report. Prints one JSON line per size: {"bytes": n, "medianUs": one-way us}.
Usage: python3 torch_gloo_peer.py <port> <sizes comma-separated> <reps>
"""
import json
import os
import statistics
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def run(rank: int, port: int, sizes: list, reps: int) -> None:
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=2)
    for n in sizes:
        t = torch.ones(n, dtype=torch.uint8)
        samples = []
        for i in range(reps + 2):
            dist.barrier()
            start = time.perf_counter()
            # ping-pong: one-way time is half the round trip, as in the bare gloo baseline
            if rank == 0:
                dist.send(t, 1)
                dist.recv(t, 1)
            else:
                dist.recv(t, 0)
                dist.send(t, 0)
            if i >= 2:
                samples.append((time.perf_counter() - start) / 2)
        if rank == 0:
            print(json.dumps({"bytes": n, "medianUs": statistics.median(samples) * 1e6, "reps": reps}), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    port = int(sys.argv[1])
    sizes = [int(x) for x in sys.argv[2].split(",")]
    reps = int(sys.argv[3])
    mp.spawn(run, args=(port, sizes, reps), nprocs=2, join=True)
