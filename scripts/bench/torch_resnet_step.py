"""One training step of Episteme's residual CNN in PyTorch, for `episteme bench` (src-main/bdl/models/resnet.ts).

Same network: avg-pool p (p = max(1, size // 56)) -> conv 3x3 16 -> GN(8) -> ReLU -> 4 stages x 2 basic blocks
(16-32-64-128, stride 2 at the first block of stages 2-4, 1x1 conv + GN projection where the shape changes)
-> global average pool -> dropout 0.25 -> dense 128 ReLU -> dropout 0.5 -> dense C. Batch 64 of random RGB
images, Adam (lr 1e-3), cross-entropy + L2 1e-4 as weight decay. Median of `steps` timed steps after 2 warm-up
steps. Prints one JSON object. Usage: python3 torch_resnet_step.py <threads> <steps> <size> [<size> ...]
"""
import json, statistics, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F

WIDTHS = [16, 32, 64, 128]


class ConvNorm(nn.Module):
    def __init__(self, cin, cout, k, stride):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False)
        self.norm = nn.GroupNorm(min(8, cout), cout, eps=1e-5)

    def forward(self, x):
        return self.norm(self.conv(x))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.a = ConvNorm(cin, cout, 3, stride)
        self.b = ConvNorm(cout, cout, 3, 1)
        self.proj = ConvNorm(cin, cout, 1, stride) if stride != 1 or cin != cout else None

    def forward(self, x):
        y = self.b(F.relu(self.a(x)))
        return F.relu(y + (self.proj(x) if self.proj is not None else x))


class ResNet(nn.Module):
    def __init__(self, size, channels=3, classes=2):
        super().__init__()
        self.pool = max(1, size // 56)
        self.stem = ConvNorm(channels, WIDTHS[0], 3, 1)
        blocks, cin = [], WIDTHS[0]
        for s, w in enumerate(WIDTHS):
            for b in range(2):
                blocks.append(Block(cin, w, 2 if s > 0 and b == 0 else 1))
                cin = w
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.Dropout(0.25), nn.Linear(128, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, classes))

    def forward(self, x):
        if self.pool > 1:
            x = F.avg_pool2d(x, self.pool)
        h = self.blocks(F.relu(self.stem(x)))
        return self.head(h.mean(dim=(2, 3)))


def step_seconds(size, steps):
    torch.manual_seed(0)
    net = ResNet(size)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
    x = torch.randint(0, 256, (64, 3, size, size), dtype=torch.uint8)
    y = torch.randint(0, 2, (64,))
    times = []
    for i in range(steps + 2):
        t = time.perf_counter()
        opt.zero_grad()
        loss = F.cross_entropy(net(x.float() / 255), y)
        loss.backward()
        opt.step()
        if i >= 2:
            times.append(time.perf_counter() - t)
    return statistics.median(times), sum(p.numel() for p in net.parameters())


def main():
    threads, steps = int(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(threads)
    out = {"torch": torch.__version__, "threads": threads, "steps": steps, "sizes": {}}
    for size in map(int, sys.argv[3:]):
        seconds, params = step_seconds(size, steps)
        out["sizes"][str(size)] = {"step_seconds": seconds, "parameters": params}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
