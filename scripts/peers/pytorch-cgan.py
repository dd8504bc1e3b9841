#!/usr/bin/env python3
"""The PyTorch fp32 peer of `posit-gan bench train --model cgan`, measured on the same machine.

The model and the iteration are those of the PyTorch-GAN collection's cgan.py (the reference
gan/models/cgan.ts reproduces): generator update, then discriminator update, Adam(2e-4, 0.5, 0.999),
MSE loss, both losses read back every iteration (cgan.py prints them every batch; posit-gan reads
them back once per iteration too). Two loops:
  reference  as cgan.py feeds it: latent vectors and labels drawn with NumPy on the host and copied
             over, the image batch copied from host memory each iteration;
  device     everything drawn and held on the GPU (the fastest an eager loop gets).
The images are random pixels in [-1, 1] with MNIST's shape (speed does not depend on their content;
the GPU host has no MNIST files). TF32 is off (a float32 peer). `--device cpu` rehearses it anywhere.
Usage: pytorch-cgan.py OUT.json [--steps N] [--warmup N] [--batches 64,256] [--device cuda|cpu]
                       [--loops reference,device]
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.label_emb = nn.Embedding(10, 10)

        def block(i, o, normalize=True):
            layers = [nn.Linear(i, o)]
            if normalize:
                layers.append(nn.BatchNorm1d(o, 0.8))  # cgan.py: 0.8 is eps
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            return layers

        self.model = nn.Sequential(
            *block(110, 128, normalize=False), *block(128, 256), *block(256, 512), *block(512, 1024),
            nn.Linear(1024, 784), nn.Tanh())

    def forward(self, z, labels):
        return self.model(torch.cat((self.label_emb(labels), z), -1)).view(z.size(0), 1, 28, 28)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.label_embedding = nn.Embedding(10, 10)
        self.model = nn.Sequential(
            nn.Linear(794, 512), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(512, 512), nn.Dropout(0.4), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(512, 512), nn.Dropout(0.4), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(512, 1))

    def forward(self, img, labels):
        return self.model(torch.cat((img.view(img.size(0), -1), self.label_embedding(labels)), -1))


def synchronize(dev):
    if dev.type == 'cuda':
        torch.cuda.synchronize()


def measure(loop, batch, steps, warmup, dev):
    torch.manual_seed(0)
    G, D = Generator().to(dev), Discriminator().to(dev)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    mse = nn.MSELoss()
    host_images = torch.rand(4096, 1, 28, 28) * 2 - 1
    host_labels = torch.randint(0, 10, (4096,))
    dev_images, dev_labels = host_images.to(dev), host_labels.to(dev)
    rng = np.random.default_rng(0)
    valid = torch.ones(batch, 1, device=dev)
    fake = torch.zeros(batch, 1, device=dev)

    def iteration(i):
        start = (i * batch) % (4096 - batch)
        if loop == 'reference':
            imgs = host_images[start:start + batch].to(dev)
            labels = host_labels[start:start + batch].to(dev)
            z = torch.as_tensor(rng.normal(0, 1, (batch, 100)), dtype=torch.float32, device=dev)
            gen_labels = torch.as_tensor(rng.integers(0, 10, batch), device=dev)
        else:
            imgs, labels = dev_images[start:start + batch], dev_labels[start:start + batch]
            z = torch.randn(batch, 100, device=dev)
            gen_labels = torch.randint(0, 10, (batch,), device=dev)
        opt_g.zero_grad()
        gen_imgs = G(z, gen_labels)
        g_loss = mse(D(gen_imgs, gen_labels), valid)
        g_loss.backward()
        opt_g.step()
        opt_d.zero_grad()
        d_loss = (mse(D(imgs, labels), valid) + mse(D(gen_imgs.detach(), gen_labels), fake)) / 2
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
    ap.add_argument('--steps', type=int, default=500)
    ap.add_argument('--warmup', type=int, default=30)
    ap.add_argument('--batches', default='64,256')
    ap.add_argument('--device', default='cuda')
    ap.add_argument('--loops', default='reference,device', help='which loops to measure (reference, device)')
    a = ap.parse_args()
    loops = [x for x in a.loops.split(',') if x]
    if not loops or any(x not in ('reference', 'device') for x in loops):
        ap.error(f'--loops takes reference and/or device, got {a.loops!r}')
    dev = torch.device(a.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    rows = [measure(loop, int(b), a.steps, a.warmup, dev)
            for loop in loops for b in a.batches.split(',')]
    for r in rows:
        print(f"pytorch fp32 eager, {r['loop']} loop, batch {r['batch']}: {r['iterationsPerSecond']:.1f} it/s")
    name = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else f'cpu ({os.cpu_count()} cores)'
    result = {'benchmark': 'pytorch-cgan-peer', 'device': name, 'torch': torch.__version__,
              'command': ' '.join([os.path.basename(sys.argv[0]), *sys.argv[1:]]),
              'date': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
              'settings': {'tf32': False},
              'timing': 'wall-clock over all timed iterations (mean: iterations / seconds), device synchronized at both ends',
              'warmup': a.warmup, 'results': rows}
    with open(a.out + '.tmp', 'w') as f:
        json.dump(result, f, indent=2)
    os.replace(a.out + '.tmp', a.out)


if __name__ == '__main__':
    main()
