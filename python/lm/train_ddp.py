"""Continue an rnnkit character-language-model run with PyTorch DistributedDataParallel, exactly as
`rnnkit train --resume DIR --steps N` would (up to the order of float sums), and write the result as an rnnkit
run directory (written by `rnnkit export DIR --pytorch OUT_DIR`; see README.md beside it).

    torchrun --nproc_per_node P train_ddp.py --steps N --out NEW_DIR [--data FILE]
    python3 train_ddp.py --nproc P --steps N --out NEW_DIR          # P local ranks, no launcher
    MASTER_ADDR=… MASTER_PORT=… RANK=r WORLD_SIZE=W python3 train_ddp.py --steps N --out NEW_DIR

Everything comes from trainer.safetensors beside this file: the settings, the parameters, the optimizer
state, the step, the data cursor, the carried hidden state and the dropout generator. The B streams of
char-rnn batching are shared out over the ranks in contiguous blocks; each rank's loss is its summed
cross-entropy, scaled so that DDP's average of gradients is the gradient of rnnkit's mean loss over all T·B
predictions. The training loop itself (schedule, clipping, torch.optim, validation, best/, metrics.jsonl) is
rnnkit_ddp.py's.

Sizes: V vocabulary, H hidden, L layers, B streams (all ranks), Br = this rank's streams, T time steps.
"""
import math
import os
import sys

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import CharModel  # noqa: E402
from rnnkit_ddp import Refusal, continue_run, load_flat, main, read_utf8, text_hash  # noqa: E402

TEXT_FILE = 'text.txt'
EVAL_CHUNK = 256  # rnnkit validates in chunks of 256 characters (the chunk does not change the result)
UINT32 = 0xFFFFFFFF


def fmix32(h):
    """MurmurHash3's finaliser on a uint64 array of 32-bit values."""
    h = h ^ (h >> np.uint64(16))
    h = (h * np.uint64(0x85EBCA6B)) & np.uint64(UINT32)
    h = h ^ (h >> np.uint64(13))
    h = (h * np.uint64(0xC2B2AE35)) & np.uint64(UINT32)
    return h ^ (h >> np.uint64(16))


def dropout_masks(seed, p, L, T, B, H, lo, hi):
    """rnnkit's inverted-dropout masks on the inputs of layers 1..L-1 for streams lo..hi-1, each [Br,T,H].
    rnnkit draws element i = (t·B + b)·H + j of layer l's [T,B,H] mask from a counter-based hash of i and
    the step's seed (src/backend/types.ts dropoutBits), so any subset of the streams gets exactly its share
    of the whole batch's mask."""
    keep = np.float32(1 / (1 - p))
    threshold = np.uint64(math.floor(p * 4294967296))
    t = np.arange(T, dtype=np.uint64)[None, :, None]
    b = np.arange(lo, hi, dtype=np.uint64)[:, None, None]
    j = np.arange(H, dtype=np.uint64)[None, None, :]
    hashed_index = fmix32((t * np.uint64(B) + b) * np.uint64(H) + j)
    masks = []
    for l in range(1, L):
        layer_seed = (seed + l * 0x9E3779B9) & UINT32
        mixed = fmix32(np.uint64(layer_seed ^ 0x9E3779B9))
        bits = fmix32(hashed_index ^ mixed)
        masks.append(torch.from_numpy(np.where(bits >= threshold, keep, np.float32(0))))
    return masks


def encode(text, vocab):
    """Token ids of the text's code points (rnnkit's vocabulary)."""
    points = np.frombuffer(text.encode('utf-32-le'), dtype='<u4').astype(np.int64)
    vocab_points = np.array([ord(ch) for ch in vocab], dtype=np.int64)
    order = np.argsort(vocab_points)
    where = np.clip(np.searchsorted(vocab_points[order], points), 0, len(vocab) - 1)
    ids = order[where]
    bad = np.nonzero(vocab_points[ids] != points)[0]
    if len(bad):
        raise Refusal(f'the training text has character {chr(points[bad[0]])!r} at position {bad[0]}, which is not in the vocabulary')
    return torch.from_numpy(ids)


class LanguageModelTask:
    """src/tasks/lm.ts on this rank's streams: char-rnn batching (the tokens cut into B equal streams; step k
    of an epoch trains stream b on positions b·S + kT … b·S + kT + T), truncated BPTT with the hidden state
    carried from step to step and reset at the start of each epoch."""

    def __init__(self, args, meta, c, tensors, rank, world, device):
        m, data = meta['model'], meta['data']
        self.c, self.device = c, device
        self.B, self.T, self.L, self.H = c['batch'], c['seq'], m['layers'], m['hidden']
        if world > self.B:
            raise Refusal(f'{world} ranks for {self.B} streams (batch {self.B}): every rank needs at least one stream')
        self.lo, self.hi = rank * self.B // world, (rank + 1) * self.B // world
        self.lstm = m['cell'] == 'lstm'
        self.vocab = meta['taskMeta']['vocab']
        path = args.data or os.path.join(HERE, TEXT_FILE)
        text = read_utf8(path)
        digest, size = text_hash(text)
        if digest != data['hash'] or size != data['size']:
            raise Refusal(f'{path}: not the text this run trained on ({size} characters, fingerprint {digest}; expected {data["size"]}, {data["hash"]})')
        tokens = encode(text, self.vocab)
        val_length = math.floor(len(tokens) * c['valFrac']) if c['valFrac'] > 0 else 0
        self.train = tokens[:len(tokens) - val_length]
        self.val = tokens[len(tokens) - val_length:] if val_length else None
        self.S = len(self.train) // self.B
        self.steps_per_epoch = (self.S - 1) // self.T
        if self.steps_per_epoch < 1:
            raise Refusal(f'the text has {len(self.train)} characters: too short for batch {self.B} × seq {self.T}')
        self.offsets = (torch.arange(self.lo, self.hi) * self.S)[:, None] + torch.arange(self.T)[None, :]  # [Br,T]
        self.model = CharModel(m['cell'], m.get('nonlinearity', 'tanh'), len(self.vocab), m['embed'], self.H, self.L)
        load_flat(self.model, tensors['params'])
        self.model.to(device).train()

        def carried(which):
            rows = [tensors[f'task.hidden.{which}_l{l}'].view(self.B, self.H)[self.lo:self.hi] for l in range(self.L)]
            return torch.stack(rows).contiguous().to(device)  # [L,Br,H]
        self.state = (carried('h'), carried('c')) if self.lstm else carried('h')
        self.final = None

    def zeros(self):
        z = torch.zeros(self.L, self.hi - self.lo, self.H, device=self.device)
        return (z, z.clone()) if self.lstm else z

    def tokens_per_step(self, epoch, k):
        return self.T * self.B

    def loss_share(self, ddp, epoch, k, seed):
        at = self.offsets + k * self.T
        ids, targets = self.train[at].to(self.device), self.train[at + 1].to(self.device)
        if k == 0:
            self.state = self.zeros()
        masks = None
        if seed is not None and self.L > 1:
            masks = [mask.to(self.device) for mask in dropout_masks(seed, self.c['dropout'], self.L, self.T, self.B, self.H, self.lo, self.hi)]
        logits, self.final = ddp(ids, self.state, masks)
        return F.cross_entropy(logits.reshape(-1, len(self.vocab)), targets.reshape(-1), reduction='sum'), self.T * self.B

    def after_step(self, updated):
        # A non-finite state must not flow into the next chunk.
        if updated:
            self.state = tuple(s.detach() for s in self.final) if self.lstm else self.final.detach()
        else:
            self.state = self.zeros()

    def validate(self):
        """Mean cross-entropy of each next character of the validation text, one stream (evaluate.ts)."""
        if self.val is None:
            return None
        predictions, total, state = len(self.val) - 1, 0.0, None
        with torch.no_grad():
            for start in range(0, predictions, EVAL_CHUNK):
                T = min(EVAL_CHUNK, predictions - start)
                logits, state = self.model(self.val[start:start + T].to(self.device)[None, :], state)
                total += F.cross_entropy(logits[0], self.val[start + 1:start + T + 1].to(self.device), reduction='sum').item()
        loss = total / predictions
        return loss, {'bpc': loss / math.log(2), 'perplexity': math.exp(loss)}

    def state_tensors(self):
        """The carried state of all B streams (each rank adds its rows into zeros: exact)."""
        out = {}
        for which, part in zip('hc', self.state if self.lstm else (self.state,)):
            whole = torch.zeros(self.L, self.B, self.H, device=self.device)
            whole[:, self.lo:self.hi] = part
            dist.all_reduce(whole)
            for l in range(self.L):
                out[f'hidden.{which}_l{l}'] = whole[l].reshape(-1)
        return out



def train(args, rank, world, device):
    continue_run(args, rank, world, device, HERE, 'lm', LanguageModelTask)


if __name__ == '__main__':
    sys.exit(main(__doc__.split('\n\n')[0], f'the training text (default: {TEXT_FILE} beside this script)', train))
