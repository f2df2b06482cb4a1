"""The standard round in PyTorch, for `episteme bench`: the same data, model and schedule as Episteme.

MNIST t10k: pool = images 0-7999 (first 1,000 labelled), test = 8000-9999. The CNN of Gal, Islam &
Ghahramani 2017; 20 epochs, batch 64, Adam (lr 1e-3), L2 1e-4; then the other 7,000 pool images
scored with T = 20 MC-dropout passes and ranked by BALD, in two forms: naive (the whole network T
times) and trunk-once (the deterministic layers before the first dropout computed once per image).
Prints one JSON object. Usage: python3 torch_round.py <mnist-dir> [threads]
"""
import gzip, json, struct, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    if magic == 2051:
        n, rows, cols = struct.unpack(">III", data[4:16])
        return torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8).reshape(n, 1, rows, cols)
    n = struct.unpack(">I", data[4:8])[0]
    return torch.frombuffer(bytearray(data[8:]), dtype=torch.uint8).reshape(n).long()


class GalCnn(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 4)
        self.conv2 = nn.Conv2d(32, 32, 4)
        self.fc1 = nn.Linear(32 * 11 * 11, 128)
        self.fc2 = nn.Linear(128, classes)

    def trunk(self, x):
        return F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2).flatten(1)

    def head(self, h, stochastic):
        h = F.dropout(h, 0.25, training=stochastic)
        h = F.dropout(F.relu(self.fc1(h)), 0.5, training=stochastic)
        return self.fc2(h)

    def forward(self, x, stochastic=False):
        return self.head(self.trunk(x), stochastic)


def bald(probs):  # probs [T, N, C]
    mean = probs.mean(0)
    entropy = -(mean * mean.clamp_min(1e-12).log()).sum(1)
    expected = -(probs * probs.clamp_min(1e-12).log()).sum(2).mean(0)
    return (entropy - expected).clamp_min(0)


def main():
    mnist_dir = sys.argv[1]
    torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 2)
    torch.manual_seed(0)
    x = read_idx(f"{mnist_dir}/t10k-images-idx3-ubyte.gz").float() / 255.0
    y = read_idx(f"{mnist_dir}/t10k-labels-idx1-ubyte.gz")
    train_x, train_y = x[:1000], y[:1000]
    pool_x = x[1000:8000]
    test_x, test_y = x[8000:], y[8000:]
    model = GalCnn()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    started = time.perf_counter()
    for _ in range(20):
        order = torch.randperm(len(train_x))
        model.train()
        for i in range(0, len(order), 64):
            batch = order[i:i + 64]
            optimiser.zero_grad()
            F.cross_entropy(model(train_x[batch], stochastic=True), train_y[batch]).backward()
            optimiser.step()
    train_seconds = time.perf_counter() - started
    model.eval()
    T = 20
    with torch.no_grad():
        accuracy = (model(test_x).argmax(1) == test_y).float().mean().item()
        started = time.perf_counter()
        probs = torch.stack([torch.cat([F.softmax(model(pool_x[i:i + 500], stochastic=True), 1) for i in range(0, len(pool_x), 500)]) for _ in range(T)])
        bald(probs).argsort(descending=True)
        naive_seconds = time.perf_counter() - started
        started = time.perf_counter()
        features = torch.cat([model.trunk(pool_x[i:i + 500]) for i in range(0, len(pool_x), 500)])
        probs = torch.stack([F.softmax(model.head(features, stochastic=True), 1) for _ in range(T)])
        bald(probs).argsort(descending=True)
        trunk_once_seconds = time.perf_counter() - started
    print(json.dumps({
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "train_seconds": train_seconds, "score_naive_seconds": naive_seconds, "score_trunk_once_seconds": trunk_once_seconds,
        "round_naive_seconds": train_seconds + naive_seconds, "round_trunk_once_seconds": train_seconds + trunk_once_seconds,
        "test_accuracy": accuracy,
    }))


if __name__ == "__main__":
    main()
