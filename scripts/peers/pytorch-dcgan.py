#!/usr/bin/env python3
"""The PyTorch fp32 peer of `posit-gan bench train --model dcgan`, measured on the same machine.

The model is gan/models/dcgan.ts (the PyTorch examples' dcgan/main.py shape, sized for MNIST): at 32x32,
G: z(100) -> ConvT(k4,s1,p0) 4x4 -> ConvT(k4,s2,p1) 8 -> 16 -> 32 with batch norm and ReLU, Tanh out;
D: Conv(k4,s2,p1) 16 -> 8 -> 4 with batch norm (not on the first) and LeakyReLU(0.2) -> Conv(k4,s1,p0) 1;
no conv biases, the DCGAN initialisation (conv N(0, 0.02), batch-norm weight N(1, 0.02), bias 0).
The iteration is posit-gan's (gan/train/trainer.ts): generator loss through the discriminator and its
update, then the discriminator loss on the real batch and the detached generated batch and its update;
the logistic loss on logits (BCEWithLogitsLoss, as posit-gan's bceWithLogits), Adam(2e-4, 0.5, 0.999),
both losses read back every iteration (posit-gan reads them back once per iteration too).
TF32 is off for matmuls and convolutions (a float32 peer); cuDNN picks its algorithms with
benchmark=True during the warm-up (the fastest eager convolutions), recorded in the output.
Two loops, as in pytorch-cgan.py:
  reference  latent vectors drawn with NumPy on the host and copied over, the image batch copied from
             host memory each iteration (as the example feeds it);
  device     everything drawn and held on the GPU (the fastest an eager loop gets).
The images are random pixels in [-1, 1] of MNIST's padded shape (speed does not depend on their content).
Usage: pytorch-dcgan.py OUT.json [--steps N] [--warmup N] [--batches 64,256] [--ngf 32] [--ndf 32]
                        [--size 32|28] [--device cuda|cpu] [--loops reference,device]
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

LATENT = 100


def generator(size, ngf):
    def up(i, o):
        return [nn.ConvTranspose2d(i, o, 4, 2, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU(True)]
    if size == 32:
        layers = [nn.ConvTranspose2d(LATENT, ngf * 4, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
                  *up(ngf * 4, ngf * 2), *up(ngf * 2, ngf),
                  nn.ConvTranspose2d(ngf, 1, 4, 2, 1, bias=False), nn.Tanh()]
    else:
        layers = [nn.ConvTranspose2d(LATENT, ngf * 4, 7, 1, 0, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
                  *up(ngf * 4, ngf * 2),
                  nn.ConvTranspose2d(ngf * 2, 1, 4, 2, 1, bias=False), nn.Tanh()]
    return nn.Sequential(*layers)


def discriminator(size, ndf):
    def down(i, o, norm):
        return [nn.Conv2d(i, o, 4, 2, 1, bias=False), *([nn.BatchNorm2d(o)] if norm else []), nn.LeakyReLU(0.2, True)]
    if size == 32:
        layers = [*down(1, ndf, False), *down(ndf, ndf * 2, True), *down(ndf * 2, ndf * 4, True),
                  nn.Conv2d(ndf * 4, 1, 4, 1, 0, bias=False)]
    else:
        layers = [*down(1, ndf, False), *down(ndf, ndf * 2, True), nn.Conv2d(ndf * 2, 1, 7, 1, 0, bias=False)]
    return nn.Sequential(*layers)


def dcgan_init(m):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def synchronize(dev):
    if dev.type == 'cuda':
        torch.cuda.synchronize()


def measure(loop, batch, steps, warmup, dev, size, ngf, ndf):
    torch.manual_seed(0)
    G, D = generator(size, ngf).to(dev), discriminator(size, ndf).to(dev)
    G.apply(dcgan_init)
    D.apply(dcgan_init)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    pool = max(4096, 4 * batch)
    host_images = torch.rand(pool, 1, size, size) * 2 - 1
    dev_images = host_images.to(dev)
    rng = np.random.default_rng(0)
    real_t = torch.ones(batch, 1, device=dev)
    fake_t = torch.zeros(batch, 1, device=dev)

    def iteration(i):
        start = (i * batch) % (pool - batch)
        if loop == 'reference':
            imgs = host_images[start:start + batch].to(dev)
            z = torch.as_tensor(rng.normal(0, 1, (batch, LATENT, 1, 1)), dtype=torch.float32, device=dev)
        else:
            imgs = dev_images[start:start + batch]
            z = torch.randn(batch, LATENT, 1, 1, device=dev)
        opt_g.zero_grad()
        gen = G(z)
        g_loss = bce(D(gen).view(batch, 1), real_t)
        g_loss.backward()
        opt_g.step()
        opt_d.zero_grad()
        d_loss = (bce(D(imgs).view(batch, 1), real_t) + bce(D(gen.detach()).view(batch, 1), fake_t)) / 2
        d_loss.backward()
        opt_d.step()
        return d_loss.item(), g_loss.item()

    for i in range(warmup):
        iteration(i)
    synchronize(dev)
    t0 = time.perf_counter()
    for i in range(steps):
        iteration(warmup + i)
    synchronize(dev)
    seconds = time.perf_counter() - t0
    return {'loop': loop, 'batch': batch, 'iterations': steps, 'seconds': seconds,
            'iterationsPerSecond': steps / seconds, 'imagesPerSecond': steps * batch / seconds}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('--steps', type=int, default=300)
    ap.add_argument('--warmup', type=int, default=30)
    ap.add_argument('--batches', default='64,256')
    ap.add_argument('--size', type=int, choices=(28, 32), default=32)
    ap.add_argument('--ngf', type=int, default=32)
    ap.add_argument('--ndf', type=int, default=32)
    ap.add_argument('--device', default='cuda')
    ap.add_argument('--loops', default='reference,device', help='which loops to measure (reference, device)')
    a = ap.parse_args()
    loops = [x for x in a.loops.split(',') if x]
    if not loops or any(x not in ('reference', 'device') for x in loops):
        ap.error(f'--loops takes reference and/or device, got {a.loops!r}')
    dev = torch.device(a.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    rows = [measure(loop, int(b), a.steps, a.warmup, dev, a.size, a.ngf, a.ndf)
            for loop in loops for b in a.batches.split(',')]
    for r in rows:
        print(f"pytorch fp32 eager dcgan {a.size}x{a.size} ngf {a.ngf} ndf {a.ndf}, {r['loop']} loop, "
              f"batch {r['batch']}: {r['iterationsPerSecond']:.1f} it/s")
    name = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else f'cpu ({os.cpu_count()} cores)'
    result = {'benchmark': 'pytorch-dcgan-peer', 'device': name, 'torch': torch.__version__,
              'command': ' '.join([os.path.basename(sys.argv[0]), *sys.argv[1:]]),
              'date': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
              'model': {'size': a.size, 'ngf': a.ngf, 'ndf': a.ndf},
              'settings': {'tf32': False, 'cudnnBenchmark': True},
              'timing': 'wall-clock over all timed iterations (mean: iterations / seconds), device synchronized at both ends',
              'warmup': a.warmup, 'results': rows}
    with open(a.out + '.tmp', 'w') as f:
        json.dump(result, f, indent=2)
    os.replace(a.out + '.tmp', a.out)


if __name__ == '__main__':
    main()
