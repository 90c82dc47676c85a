"""Continue an rnnkit sequence-classifier run with PyTorch DistributedDataParallel, exactly as
`rnnkit train --resume DIR --steps N` would (up to the order of float sums), and write the result as an rnnkit
run directory (written by `rnnkit export DIR --pytorch OUT_DIR`; see README.md beside it).

    torchrun --nproc_per_node P train_ddp.py --steps N --out NEW_DIR [--data FILE]
    python3 train_ddp.py --nproc P --steps N --out NEW_DIR          # P local ranks, no launcher
    MASTER_ADDR=… MASTER_PORT=… RANK=r WORLD_SIZE=W python3 train_ddp.py --steps N --out NEW_DIR

Everything comes from trainer.safetensors beside this file. Each step's batch is rnnkit's (bucketed by
length, the plan of each epoch shuffled with the run's seed: src/tasks/classify/batcher.ts); its examples are
shared out over the ranks in contiguous blocks, each rank's loss is its summed cross-entropy, scaled so that
DDP's average of gradients is the gradient of rnnkit's mean loss over the batch. The training loop itself
(schedule, clipping, torch.optim, validation, best/, metrics.jsonl) is rnnkit_ddp.py's.

Sizes: C classes, B examples in a batch (all ranks), T a batch's longest example.
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import SequenceClassifier  # noqa: E402
from rnnkit_ddp import Random, Refusal, continue_run, load_flat, main, read_utf8, text_hash  # noqa: E402

EXAMPLES_FILE = 'examples.jsonl'
POOL_BATCHES = 50  # rnnkit's DEFAULT_POOL_BATCHES: batches per pool sorted by length


def read_examples(path):
    """(text, label) pairs of a JSON Lines file ({"text": …, "label": …} per line, blank lines skipped)."""
    examples = []
    for number, line in enumerate(read_utf8(path).split('\n'), 1):
        if line.strip():
            try:
                row = json.loads(line)
                examples.append((row['text'], row['label']))
            except (ValueError, KeyError, TypeError):
                raise Refusal(f'{path}:{number}: not a JSON object with "text" and "label"') from None
    return examples


def shuffle(items, random):
    """Fisher–Yates in place, with rnnkit's generator (src/tasks/classify/split.ts)."""
    for i in range(len(items) - 1, 0, -1):
        j = math.floor(random.uniform() * (i + 1))
        items[i], items[j] = items[j], items[i]


def stratified_split(examples, val_frac, seed):
    """rnnkit's split: per class (in code-point order of the labels), round(n·F) shuffled members to validation,
    at least 1 when F > 0 and n ≥ 2, never all; both parts keep the file order."""
    by_class = {}
    for i, (_, label) in enumerate(examples):
        by_class.setdefault(label, []).append(i)
    random = Random.seeded(seed)
    is_val = [False] * len(examples)
    for label in sorted(by_class):
        members = by_class[label]
        n = len(members)
        n_val = 0 if val_frac == 0 or n < 2 else min(n - 1, max(1, math.floor(n * val_frac + 0.5)))  # Math.round
        shuffle(members, random)
        for k in range(n_val):
            is_val[members[k]] = True
    return [e for e, v in zip(examples, is_val) if not v], [e for e, v in zip(examples, is_val) if v]


class Encoded:
    """Examples as id sequences (each cut to max_len code points; unknown characters are id 0) and class ids."""

    def __init__(self, examples, chars, labels, max_len, source):
        ids_of = {ch: i + 1 for i, ch in enumerate(chars)}
        label_ids = {label: i for i, label in enumerate(labels)}
        self.sequences, self.labels = [], []
        for text, label in examples:
            if label not in label_ids:
                raise Refusal(f'{source}: label {label!r} is not one the run was trained on')
            cut = text[:max_len] if max_len > 0 else text
            self.sequences.append(torch.tensor([ids_of.get(ch, 0) for ch in cut], dtype=torch.int64))
            self.labels.append(label_ids[label])
        self.lengths = [len(s) for s in self.sequences]

    def batch(self, indices):
        """ids [T,B] time-major (0 past each length), lengths [B], labels [B]."""
        lengths = torch.tensor([self.lengths[i] for i in indices])
        ids = torch.zeros(int(lengths.max()), len(indices), dtype=torch.int64)
        for b, i in enumerate(indices):
            ids[:self.lengths[i], b] = self.sequences[i]
        return ids, lengths, torch.tensor([self.labels[i] for i in indices])


def stable_by_length(indices, lengths):
    return sorted(indices, key=lambda i: lengths[i])  # Python's sort is stable: ties keep their order


class BucketPlan:
    """rnnkit's BucketBatcher: an epoch's plan is a pure function of (seed, epoch, data)."""

    def __init__(self, lengths, B, seed):
        self.lengths, self.B = lengths, B
        self.batches_per_epoch = -(-len(lengths) // B)
        self.epoch_key = Random.seeded(seed).next_uint32()
        self.epoch, self.batches = None, None

    def batch(self, epoch, position):
        if self.epoch != epoch:
            self.epoch, self.batches = epoch, self.plan(epoch)
        return self.batches[position]

    def plan(self, epoch):
        n, B = len(self.lengths), self.B
        random = Random.seeded((self.epoch_key + epoch * 0x9E3779B9) & 0xFFFFFFFF)
        shuffled = list(range(n))
        shuffle(shuffled, random)
        pool = POOL_BATCHES * B
        for start in range(0, n, pool):
            shuffled[start:start + pool] = stable_by_length(shuffled[start:start + pool], self.lengths)
        order = list(range(self.batches_per_epoch))
        shuffle(order, random)
        return [shuffled[k * B:min(n, (k + 1) * B)] for k in order]


def macro_f1(predicted, labels, C):
    """F1 = 2·TP / (2·TP + FP + FN) averaged over the classes among the labels or the predictions (metrics.ts)."""
    total, present = 0.0, 0
    for k in range(C):
        tp = sum(1 for p, y in zip(predicted, labels) if p == k and y == k)
        support = sum(1 for y in labels if y == k)
        guessed = sum(1 for p in predicted if p == k)
        if support or guessed:  # then 2·TP + FP + FN = support + guessed > 0
            total += 2 * tp / (support + guessed)
            present += 1
    return total / present


class ClassifierTask:
    """src/tasks/classify/task.ts on this rank's share of each batch."""

    def __init__(self, args, meta, c, tensors, rank, world, device):
        m, data, task_meta = meta['model'], meta['data'], meta['taskMeta']
        if c['dropout'] > 0:
            raise Refusal('a classifier trained with dropout is not covered yet (its masks on packed sequences)')
        self.c, self.device, self.rank, self.world = c, device, rank, world
        path = args.data or os.path.join(HERE, EXAMPLES_FILE)
        examples = read_examples(path)
        digest, _ = text_hash('\n'.join(f'{label}\t{text}' for text, label in examples))
        if digest != data['hash'] or len(examples) != data['size']:
            raise Refusal(f'{path}: not the examples this run trained on ({len(examples)} examples, fingerprint {digest}; expected {data["size"]}, {data["hash"]})')
        train, val = stratified_split(examples, c['valFrac'], c['seed'])
        chars, self.label_names = task_meta['vocab']['chars'], task_meta['labels']
        self.train = Encoded(train, chars, self.label_names, c['maxLen'], path)
        self.val = Encoded(val, chars, self.label_names, c['maxLen'], path) if val else None
        self.plan = BucketPlan(self.train.lengths, c['batch'], c['seed'])
        self.steps_per_epoch = self.plan.batches_per_epoch
        self.model = SequenceClassifier(len(chars) + 1, len(self.label_names), m['cell'], m['hidden'], m['layers'], m['embed'],
                                        m.get('bidirectional', False), c['pool'], m.get('nonlinearity', 'tanh'))
        load_flat(self.model, tensors['params'])
        self.model.to(device).train()

    def tokens_per_step(self, epoch, k):
        return sum(self.train.lengths[i] for i in self.plan.batch(epoch, k))

    def loss_share(self, ddp, epoch, k, seed):
        batch = self.plan.batch(epoch, k)
        B = len(batch)
        share = batch[self.rank * B // self.world:(self.rank + 1) * B // self.world]
        # A rank with no example of a short last batch still takes part (DDP needs every rank's gradient):
        # it runs the batch's first example and contributes zero.
        weight = 1.0 if share else 0.0
        ids, lengths, labels = self.train.batch(share or batch[:1])
        logits = ddp(ids.to(self.device), lengths)
        return F.cross_entropy(logits, labels.to(self.device), reduction='sum') * weight, B

    def after_step(self, updated):
        pass

    def validate(self):
        """Mean loss, accuracy and macro-F1 over the validation split, in batches sorted by length (task.ts)."""
        if self.val is None:
            return None
        order = stable_by_length(list(range(len(self.val.lengths))), self.val.lengths)
        total, predicted, labels = 0.0, [], []
        with torch.no_grad():
            for start in range(0, len(order), self.c['batch']):
                ids, lengths, y = self.val.batch(order[start:start + self.c['batch']])
                logits = self.model(ids.to(self.device), lengths)
                total += F.cross_entropy(logits, y.to(self.device), reduction='sum').item()
                predicted += logits.argmax(1).tolist()
                labels += y.tolist()
        n = len(labels)
        accuracy = sum(1 for p, y in zip(predicted, labels) if p == y) / n
        return total / n, {'accuracy': accuracy, 'macro_f1': macro_f1(predicted, labels, len(self.label_names))}

    def state_tensors(self):
        return {}



def train(args, rank, world, device):
    continue_run(args, rank, world, device, HERE, 'classify', ClassifierTask)


if __name__ == '__main__':
    sys.exit(main(__doc__.split('\n\n')[0], f'the examples, JSON Lines (default: {EXAMPLES_FILE} beside this script)', train))
