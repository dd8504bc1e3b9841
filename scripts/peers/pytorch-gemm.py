#!/usr/bin/env python3
"""The cuBLAS FP32 peer of the f32 GEMM rows of `posit-gan bench speed`: torch.matmul of two n x n
float32 matrices with TF32 off (torch.backends.cuda.matmul.allow_tf32 = False and the float32 matmul
precision 'highest', so cuBLAS runs true FP32 SGEMM), on the same machine in the same run.

Timing: `--warmup` untimed products, then `--reps` products back to back between two CUDA events
(on the CPU: the wall clock around them); the rate is the mean over that window,
2 n^3 reps / seconds. The operands are uniform in [-1, 1) (speed does not depend on the values).
`--device cpu` rehearses the script anywhere (the rates are then the CPU's, not cuBLAS's).
Usage: pytorch-gemm.py OUT.json [--sizes 2048,4096] [--reps N] [--warmup N] [--device cuda|cpu]
"""

import argparse
import json
import os
import sys
import time

import torch


def measure(n, reps, warmup, dev):
    g = torch.Generator(device='cpu').manual_seed(n)
    a = (torch.rand(n, n, generator=g) * 2 - 1).to(dev)
    b = (torch.rand(n, n, generator=g) * 2 - 1).to(dev)
    c = torch.empty(n, n, device=dev)
    for _ in range(warmup):
        torch.matmul(a, b, out=c)
    if dev.type == 'cuda':
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(reps):
            torch.matmul(a, b, out=c)
        end.record()
        torch.cuda.synchronize()
        seconds = start.elapsed_time(end) / 1e3
        timing = 'CUDA events around the timed products'
    else:
        t0 = time.perf_counter()
        for _ in range(reps):
            torch.matmul(a, b, out=c)
        seconds = time.perf_counter() - t0
        timing = 'wall clock around the timed products'
    return {'n': n, 'reps': reps, 'seconds': seconds, 'tflops': 2 * n ** 3 * reps / seconds / 1e12, 'timing': timing}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('--sizes', default='2048,4096')
    ap.add_argument('--reps', type=int, default=20)
    ap.add_argument('--warmup', type=int, default=5)
    ap.add_argument('--device', default='cuda')
    a = ap.parse_args()
    if a.reps < 1 or a.warmup < 0:
        ap.error('--reps must be >= 1 and --warmup >= 0')
    dev = torch.device(a.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision('highest')
    rows = [measure(int(n), a.reps, a.warmup, dev) for n in a.sizes.split(',')]
    for r in rows:
        print(f"torch.matmul fp32 (TF32 off), n = {r['n']}: {r['tflops']:.2f} TFLOP/s")
    name = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else f'cpu ({os.cpu_count()} cores)'
    result = {'benchmark': 'pytorch-gemm-peer', 'device': name, 'torch': torch.__version__,
              'command': ' '.join([os.path.basename(sys.argv[0]), *sys.argv[1:]]),
              'date': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
              'settings': {'tf32': False, 'float32MatmulPrecision': torch.get_float32_matmul_precision()},
              'warmup': a.warmup, 'results': rows}
    with open(a.out + '.tmp', 'w') as f:
        json.dump(result, f, indent=2)
    os.replace(a.out + '.tmp', a.out)


if __name__ == '__main__':
    main()
