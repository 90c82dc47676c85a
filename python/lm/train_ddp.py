"""Continue an rnnkit character-language-model run with PyTorch DistributedDataParallel, exactly as
`rnnkit train --resume DIR --steps N` would (up to the order of float sums), and write the result as an rnnkit
run directory (written by `rnnkit export DIR --pytorch OUT_DIR`; see README.md beside it).

    torchrun --nproc_per_node P train_ddp.py --steps N --out NEW_DIR [--data FILE]
    python3 train_ddp.py --nproc P --steps N --out NEW_DIR          # P local ranks, no launcher
    MASTER_ADDR=… MASTER_PORT=… RANK=r WORLD_SIZE=W python3 train_ddp.py --steps N --out NEW_DIR

Everything comes from trainer.safetensors beside this file: the settings, the parameters, the optimizer
state, the step, the data cursor, the carried hidden state and the dropout generator. The B streams of
char-rnn batching are shared out over the ranks in contiguous blocks; each rank's loss is its summed
cross-entropy over T·B, times the world size, so DDP's average of gradients is the gradient of rnnkit's mean
loss over all B streams. Clipping, the optimizer (torch.optim: rnnkit's update rules are PyTorch's), the
learning-rate schedule, validation, early stopping, best/ and metrics.jsonl follow rnnkit's trainer.

Sizes: V vocabulary, H hidden, L layers, B streams (all ranks), Bр = this rank's streams, T time steps.
"""
import argparse
import json
import math
import os
import shutil
import socket
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import CharModel, MODEL_FILE, read_safetensors, save, write_safetensors  # noqa: E402

TRAINER_FILE = 'trainer.safetensors'
TRAINER_FORMAT = 2
RUN_FILE, METRICS_FILE, TEXT_FILE, BEST_DIR = 'run.json', 'metrics.jsonl', 'text.txt', 'best'
MAX_CONSECUTIVE_SKIPS = 100  # as rnnkit: no update can happen any more
EVAL_CHUNK = 256  # rnnkit validates in chunks of 256 characters (the chunk does not change the result)
UINT32 = 0xFFFFFFFF


class Refusal(Exception):
    """A problem with the input: printed as one line, exit status 1."""


# ---------------------------------------------------------------- rnnkit's arithmetic, ported

def text_hash(text):
    """rnnkit's fingerprint of the training text: FNV-1a over its UTF-16 code units."""
    h = 0x811C9DC5
    units = np.frombuffer(text.encode('utf-16-le'), dtype='<u2')
    for u in units.tolist():
        h = ((h ^ u) * 0x01000193) & UINT32
    return f'{h:08x}', len(units)


class Random:
    """rnnkit's xoshiro128** (src/util/random.ts): the run's dropout seeds, one per step."""

    def __init__(self, state):
        self.s = [int(w) & UINT32 for w in state]

    def next_uint32(self):
        s = self.s
        rotl = lambda x, k: ((x << k) | (x >> (32 - k))) & UINT32  # noqa: E731
        result = (rotl((s[1] * 5) & UINT32, 7) * 9) & UINT32
        t = (s[1] << 9) & UINT32
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 11)
        return result


def fmix32(h):
    """MurmurHash3's finaliser on a uint64 array of 32-bit values."""
    h = h ^ (h >> np.uint64(16))
    h = (h * np.uint64(0x85EBCA6B)) & np.uint64(UINT32)
    h = h ^ (h >> np.uint64(13))
    h = (h * np.uint64(0xC2B2AE35)) & np.uint64(UINT32)
    return h ^ (h >> np.uint64(16))


def dropout_masks(seed, p, L, T, B, H, lo, hi):
    """rnnkit's inverted-dropout masks on the inputs of layers 1..L-1 for streams lo..hi-1, each [Bр,T,H].
    rnnkit draws element i = (t·B + b)·H + j of layer l's [T,B,H] mask from a counter-based hash of i and
    the step's seed, so any subset of the streams gets exactly its share of the whole batch's mask."""
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


def learning_rate(c, step, epoch):
    """rnnkit's schedule (src/train/schedule.ts) for optimizer step `step` (1-based) in epoch `epoch`."""
    lr = c['lr']
    if c['lrSchedule'] == 'step' and epoch >= c['decayAfter']:
        lr *= c['decayRate'] ** (1 + (epoch - c['decayAfter']) // c['decayEvery'])
    elif c['lrSchedule'] == 'cosine':
        span = c['steps'] - c['warmup']
        progress = min(1, max(0, (step - c['warmup']) / span)) if span > 0 else 1
        lr *= 0.5 * (1 + math.cos(math.pi * progress))
    return (lr * step) / c['warmup'] if step <= c['warmup'] else lr


def make_optimizer(c, params):
    """torch.optim with rnnkit's settings (PyTorch's defaults where rnnkit leaves them unset)."""
    wd, eps = c.get('weightDecay'), c.get('eps')
    name = c['optimizer']
    if name == 'sgd':
        return torch.optim.SGD(params, lr=c['lr'], momentum=c['momentum'], nesterov=c['nesterov'], weight_decay=wd or 0)
    if name == 'adagrad':
        return torch.optim.Adagrad(params, lr=c['lr'], eps=1e-10 if eps is None else eps, weight_decay=wd or 0)
    if name == 'rmsprop':
        return torch.optim.RMSprop(params, lr=c['lr'], alpha=c['alpha'], eps=1e-8 if eps is None else eps, weight_decay=wd or 0)
    if name in ('adam', 'adamw'):
        kind = torch.optim.Adam if name == 'adam' else torch.optim.AdamW
        return kind(params, lr=c['lr'], betas=(c['beta1'], c['beta2']), eps=1e-8 if eps is None else eps,
                    weight_decay=(0.01 if name == 'adamw' else 0) if wd is None else wd)
    raise Refusal(f'optimizer {name!r} is not known to this script')


def state_template(optimizer):
    """The per-parameter state this torch version's optimizer keeps (names, and whether `step` is a tensor),
    read off one step of the same optimizer on a throwaway parameter."""
    probe = torch.zeros(1, requires_grad=True)
    probe.grad = torch.zeros(1)
    twin = type(optimizer)([probe], **optimizer.defaults)
    twin.step()
    return twin.state[probe]


def restore_optimizer(optimizer, params, saved, steps):
    """rnnkit's buffers (torch.optim's names, laid out like the flat parameters) into optimizer.state."""
    if steps == 0 and not isinstance(optimizer, torch.optim.Adagrad):
        return  # nothing has happened yet: torch.optim starts from its own empty state, as rnnkit does
    template = state_template(optimizer)
    offset = 0
    for p in params:
        state = {}
        for key, value in template.items():
            if value is None:
                continue  # a buffer these settings do not use (SGD's momentum_buffer without momentum)
            if key == 'step':
                state[key] = torch.tensor(float(steps)) if torch.is_tensor(value) else steps
            else:
                if key not in saved:
                    raise Refusal(f'{TRAINER_FILE} has no optimizer buffer {key}')
                state[key] = saved[key][offset:offset + p.numel()].view_as(p).clone().to(p.device)
        optimizer.state[p] = state
        offset += p.numel()


def optimizer_buffers(optimizer, params, names):
    """optimizer.state back into rnnkit's flat buffers (zeros where torch.optim has not made one yet)."""
    out = {}
    for name in names:
        parts = [optimizer.state[p][name].detach().reshape(-1).cpu() if optimizer.state.get(p, {}).get(name) is not None
                 else torch.zeros(p.numel()) for p in params]
        out[name] = torch.cat(parts)
    return out


def rnnkit_state_names(c):
    """The optimizer buffers rnnkit keeps for these settings (src/train/optimizer.ts)."""
    return {'sgd': ['momentum_buffer'] if c['momentum'] > 0 else [], 'adagrad': ['sum'], 'rmsprop': ['square_avg'],
            'adam': ['exp_avg', 'exp_avg_sq'], 'adamw': ['exp_avg', 'exp_avg_sq']}[c['optimizer']]


# ---------------------------------------------------------------- the run

def read_text(path, data):
    """The training text, checked against the fingerprint rnnkit recorded (so the run cannot silently
    continue on other data)."""
    if not os.path.isfile(path):
        raise Refusal(f'{path}: no such file (give the training text with --data FILE)')
    with open(path, 'rb') as f:
        try:
            text = f.read().decode('utf-8-sig')  # a leading byte-order mark is dropped, as rnnkit drops it
        except UnicodeDecodeError:
            raise Refusal(f'{path}: is not valid UTF-8 text') from None
    digest, size = text_hash(text)
    if digest != data['hash'] or size != data['size']:
        raise Refusal(f'{path}: not the text this run trained on ({size} characters, fingerprint {digest}; '
                      f'expected {data["size"]}, {data["hash"]})')
    return text


def encode(text, vocab):
    """Token ids of the text's code points (rnnkit's vocabulary)."""
    points = np.frombuffer(text.encode('utf-32-le'), dtype='<u4').astype(np.int64)
    vocab_points = np.array([ord(ch) for ch in vocab], dtype=np.int64)
    order = np.argsort(vocab_points)
    where = np.clip(np.searchsorted(vocab_points[order], points), 0, len(vocab) - 1)
    ids = order[where]
    bad = np.nonzero(vocab_points[ids] != points)[0]
    if len(bad):
        ch = chr(points[bad[0]])
        raise Refusal(f'the training text has character {ch!r} at position {bad[0]}, which is not in the vocabulary')
    return torch.from_numpy(ids)


class Streams:
    """char-rnn batching (src/data/batcher.ts): the tokens cut into B equal contiguous streams; step k of an
    epoch trains stream b on positions b·S + kT … b·S + kT + T; the carried state is reset when k = 0."""

    def __init__(self, tokens, B, T, lo, hi):
        self.tokens, self.B, self.T = tokens, B, T
        self.S = len(tokens) // B
        self.steps_per_epoch = (self.S - 1) // T
        if self.steps_per_epoch < 1:
            raise Refusal(f'the text has {len(tokens)} characters: too short for batch {B} × seq {T}')
        self.offsets = (torch.arange(lo, hi) * self.S)[:, None] + torch.arange(T)[None, :]  # [Bр,T]

    def batch(self, k):
        at = self.offsets + k * self.T
        return self.tokens[at], self.tokens[at + 1]


def evaluate(model, tokens, device):
    """Mean cross-entropy of each next character of `tokens`, one stream, the state carried (evaluate.ts)."""
    predictions = len(tokens) - 1
    total, state = 0.0, None
    with torch.no_grad():
        for start in range(0, predictions, EVAL_CHUNK):
            T = min(EVAL_CHUNK, predictions - start)
            ids = tokens[start:start + T].to(device)[None, :]
            targets = tokens[start + 1:start + T + 1].to(device)
            logits, state = model(ids, state)
            total += F.cross_entropy(logits[0], targets, reduction='sum').item()
    return total / predictions


def finite_or_none(x):
    return x if isinstance(x, (int, float)) and math.isfinite(x) else None  # JSON has no NaN (JS writes null)


def trainer_tensors(path):
    tensors, metadata = read_safetensors(path)
    meta = json.loads(metadata.get('rnnkit_trainer', 'null') or 'null')
    if not meta or meta.get('format') != TRAINER_FORMAT:
        raise Refusal(f'{path}: no rnnkit trainer metadata of format {TRAINER_FORMAT}')
    if meta['task'] != 'lm':
        raise Refusal(f'{path}: a run of task {meta["task"]}; this script continues character language models')
    return tensors, meta


def claim_out(out, rank):
    """Rank 0 prepares NEW_DIR; every rank learns whether it could (so none waits for a rank that stopped)."""
    problem = ''
    if rank == 0:
        try:
            prepare_out(out)
        except Refusal as refusal:
            problem = str(refusal)
    flag = torch.tensor([1.0 if problem else 0.0])
    dist.broadcast(flag, 0)
    if flag.item():
        raise Refusal(problem or f'--out {out}: rank 0 could not prepare it')


def train(args, rank, world, device):
    claim_out(args.out, rank)
    tensors, meta = trainer_tensors(os.path.join(HERE, TRAINER_FILE))
    c = dict(meta['config'])
    if args.steps is not None:
        c['steps'] = args.steps
    pos = dict(meta['position'])
    if c['steps'] < pos['step']:
        raise Refusal(f'--steps {c["steps"]} is below the checkpoint\'s step {pos["step"]}')
    B, T, m = c['batch'], c['seq'], meta['model']
    if world > B:
        raise Refusal(f'{world} ranks for {B} streams (--batch {B}): every rank needs at least one stream')
    lo, hi = rank * B // world, (rank + 1) * B // world
    vocab = meta['taskMeta']['vocab']
    L, H = m['layers'], m['hidden']
    lstm = m['cell'] == 'lstm'

    data = dict(meta['data'])
    text_path = args.data or os.path.join(HERE, TEXT_FILE)
    tokens = encode(read_text(text_path, data), vocab)
    if args.data:
        data['source'] = os.path.abspath(args.data)
    val_length = math.floor(len(tokens) * c['valFrac']) if c['valFrac'] > 0 else 0
    train_tokens, val_tokens = tokens[:len(tokens) - val_length], (tokens[len(tokens) - val_length:] if val_length else None)
    streams = Streams(train_tokens, B, T, lo, hi)
    if pos['position'] >= streams.steps_per_epoch:
        raise Refusal(f'{TRAINER_FILE} points past the end of the epoch')

    model = CharModel(m['cell'], m.get('nonlinearity', 'tanh'), len(vocab), m['embed'], H, L)
    flat, offset, state_dict = tensors['params'], 0, {}
    for name, p in model.state_dict().items():
        state_dict[name] = flat[offset:offset + p.numel()].view_as(p)
        offset += p.numel()
    if offset != flat.numel():
        raise Refusal(f'{TRAINER_FILE} holds {flat.numel()} parameters, the model {offset}')
    model.load_state_dict(state_dict, strict=True)
    model.to(device).train()
    params = list(model.parameters())
    ddp = DistributedDataParallel(model, device_ids=[device] if device.type == 'cuda' else None, broadcast_buffers=False)
    optimizer = make_optimizer(c, params)
    names = rnnkit_state_names(c)
    restore_optimizer(optimizer, params, {n: tensors['optimizer.' + n] for n in names}, pos['optimizerSteps'])

    def carried(which):
        rows = [tensors[f'task.hidden.{which}_l{l}'].view(B, H)[lo:hi] for l in range(L)]
        return torch.stack(rows).contiguous().to(device)  # [L,Bр,H]
    state = (carried('h'), carried('c')) if lstm else carried('h')
    random = Random(pos['random'])
    epoch, k = pos['epoch'], pos['position']

    def full_state():
        """The carried state of all B streams (each rank adds its rows into zeros: exact)."""
        parts = state if lstm else (state,)
        out = {}
        for which, part in zip('hc', parts):
            whole = torch.zeros(L, B, H, device=device)
            whole[:, lo:hi] = part
            dist.all_reduce(whole)
            for l in range(L):
                out[f'task.hidden.{which}_l{l}'] = whole[l].reshape(-1)
        return out

    start_time, start_elapsed = time.time(), pos['elapsedS']
    out_dir = args.out

    def checkpoint():
        """trainer.safetensors then model.safetensors, as rnnkit writes them (rank 0; all ranks gather)."""
        hidden = full_state()
        if rank != 0:
            return
        pos.update(epoch=epoch, position=k, optimizerSteps=optimizer_steps, random=list(random.s),
                   elapsedS=start_elapsed + time.time() - start_time)
        flat_params = torch.cat([p.detach().reshape(-1).cpu() for p in params])
        saved = {'params': flat_params}
        saved.update({'optimizer.' + n: t for n, t in optimizer_buffers(optimizer, params, names).items()})
        saved.update(hidden)
        trainer_meta = {'format': TRAINER_FORMAT, 'task': 'lm', 'config': c, 'model': m, 'taskMeta': meta['taskMeta'],
                        'data': data, 'position': pos}
        write_safetensors(os.path.join(out_dir, TRAINER_FILE), {n: t.reshape(-1) for n, t in saved.items()},
                          {'rnnkit_trainer': json.dumps(trainer_meta)})
        save(out_dir, model, model_meta)

    model_meta = json.loads(read_safetensors(os.path.join(HERE, MODEL_FILE))[1]['rnnkit'])
    metrics = open(os.path.join(out_dir, METRICS_FILE), 'a') if rank == 0 else None
    optimizer_steps, consecutive_skips = pos['optimizerSteps'], 0
    window_start, window_tokens = time.time(), 0
    stopped_early = False
    while pos['step'] < c['steps'] and not stopped_early:
        step = pos['step'] + 1
        step_epoch = epoch
        lr = learning_rate(c, step, step_epoch)
        seed = random.next_uint32() if c['dropout'] > 0 else None
        ids, targets = streams.batch(k)
        if k == 0:
            state = (torch.zeros(L, hi - lo, H, device=device),) * 2 if lstm else torch.zeros(L, hi - lo, H, device=device)
        k += 1
        if k == streams.steps_per_epoch:
            epoch, k = epoch + 1, 0
        masks = None
        if seed is not None and L > 1:
            masks = [mask.to(device) for mask in dropout_masks(seed, c['dropout'], L, T, B, H, lo, hi)]

        optimizer.zero_grad(set_to_none=False)
        logits, final = ddp(ids.to(device), state, masks)
        loss_sum = F.cross_entropy(logits.reshape(-1, len(vocab)), targets.to(device).reshape(-1), reduction='sum')
        # DDP averages gradients over the ranks; rnnkit's loss is the mean over all T·B predictions.
        (loss_sum * (world / (T * B))).backward()
        state = tuple(s.detach() for s in final) if lstm else final.detach()
        total = loss_sum.detach().double().reshape(1)
        dist.all_reduce(total)
        loss = total.item() / (T * B)

        grads = [p.grad for p in params]
        norm = math.sqrt(sum(g.double().pow(2).sum().item() for g in grads))
        if c['clipValue'] > 0:
            for g in grads:
                g.clamp_(-c['clipValue'], c['clipValue'])
        if c['clipNorm'] > 0:
            clipped = math.sqrt(sum(g.double().pow(2).sum().item() for g in grads)) if c['clipValue'] > 0 else norm
            coefficient = c['clipNorm'] / (clipped + 1e-6)
            if coefficient < 1:
                for g in grads:
                    g.mul_(coefficient)
        updated = math.isfinite(loss) and math.isfinite(norm)
        pos['step'] = step
        if updated:
            for group in optimizer.param_groups:
                group['lr'] = lr
            optimizer.step()
            optimizer_steps += 1
            consecutive_skips = 0
            pos['smoothLoss'] = pos['smoothLoss'] * 0.999 + loss * 0.001
        else:
            if not c['skipNonfinite']:
                raise Refusal(f'the {"gradient norm" if math.isfinite(loss) else "loss"} became {norm if math.isfinite(loss) else loss} '
                              f'at step {step}; nothing was written for it (lower --lr, use clipping, or skipNonfinite)')
            pos['skippedSteps'] += 1
            consecutive_skips += 1
            state = tuple(torch.zeros_like(s) for s in state) if lstm else torch.zeros_like(state)
            if consecutive_skips >= MAX_CONSECUTIVE_SKIPS:
                raise Refusal(f'{consecutive_skips} consecutive steps (to step {step}) had a non-finite loss or gradient')
        window_tokens += T * B

        validated = None
        if step % c['evalEvery'] == 0 or step == c['steps']:
            if val_tokens is not None:
                value = torch.zeros(1, dtype=torch.float64)
                if rank == 0:
                    value[0] = evaluate(model, val_tokens, device)
                dist.broadcast(value, 0)
                val_loss = value.item()
                best = pos['bestValLoss'] is None or val_loss < pos['bestValLoss']
                if best:
                    pos['bestValLoss'], pos['evalsWithoutImprovement'] = val_loss, 0
                    if rank == 0:
                        save(os.path.join(out_dir, BEST_DIR), model, model_meta)
                else:
                    pos['evalsWithoutImprovement'] += 1
                validated = {'val_loss': val_loss, 'val_bpc': val_loss / math.log(2), 'val_perplexity': math.exp(val_loss)}
                stopped_early = c['patience'] > 0 and pos['evalsWithoutImprovement'] >= c['patience']
        if rank == 0 and (step % c['logEvery'] == 0 or step == c['steps'] or validated or stopped_early):
            now = time.time()
            n = step - pos['skippedSteps']
            row = {'step': step, 'epoch': step_epoch, 'loss': loss,
                   'smooth_loss': pos['smoothLoss'] / (1 - 0.999 ** n) if n > 0 else None, 'grad_norm': norm, 'lr': lr,
                   'tokens_per_s': window_tokens / max(now - window_start, 1e-9), 'elapsed_s': start_elapsed + now - start_time,
                   **(validated or {}), **({'skipped_steps': pos['skippedSteps']} if pos['skippedSteps'] else {})}
            metrics.write(json.dumps({key: finite_or_none(v) for key, v in row.items()}) + '\n')
            metrics.flush()
            window_start, window_tokens = now, 0
            print(f'step {step}/{c["steps"]}  loss {loss:.4f}  lr {lr:.3g}' + (f'  val_loss {validated["val_loss"]:.4f}' if validated else ''), flush=True)
        if c['saveEvery'] > 0 and step % c['saveEvery'] == 0 and step < c['steps']:
            checkpoint()
    checkpoint()
    if metrics:
        metrics.close()


# ---------------------------------------------------------------- processes

def prepare_out(out):
    """NEW_DIR: new or empty, then the run's run.json and its metrics.jsonl up to the checkpoint's step."""
    if os.path.exists(out) and (not os.path.isdir(out) or os.listdir(out)):
        raise Refusal(f'--out {out}: exists and is not an empty directory; choose a new one')
    os.makedirs(out, exist_ok=True)
    if os.path.exists(os.path.join(HERE, RUN_FILE)):
        shutil.copyfile(os.path.join(HERE, RUN_FILE), os.path.join(out, RUN_FILE))
    step = json.loads(read_safetensors(os.path.join(HERE, TRAINER_FILE))[1]['rnnkit_trainer'])['position']['step']
    with open(os.path.join(out, METRICS_FILE), 'w') as kept:
        source = os.path.join(HERE, METRICS_FILE)
        if os.path.exists(source):
            for line in open(source):
                try:
                    if json.loads(line)['step'] <= step:
                        kept.write(line)
                except (ValueError, KeyError, TypeError):
                    pass  # not a metrics row (cut by a crash): rnnkit drops those too


def run_rank(rank, world, args):
    """One rank: join the group (gloo on CPU, nccl on GPU), train, leave."""
    cuda = torch.cuda.is_available() and not args.cpu
    local_rank = int(os.environ.get('LOCAL_RANK', rank))
    device = torch.device(f'cuda:{local_rank}') if cuda else torch.device('cpu')
    if cuda:
        torch.cuda.set_device(device)
    if args.threads:
        torch.set_num_threads(args.threads)
    dist.init_process_group('nccl' if cuda else 'gloo', rank=rank, world_size=world)
    try:
        train(args, rank, world, device)
    finally:
        dist.destroy_process_group()


def spawned(index, world, args, port):
    """A local rank of --nproc; a Refusal reaches the parent as the last line of the traceback it is sent."""
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), RANK=str(index), LOCAL_RANK=str(index), WORLD_SIZE=str(world))
    run_rank(index, world, args)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--steps', type=int, help="the run's total optimizer steps (default: the run's own)")
    parser.add_argument('--out', required=True, help='the new run directory (new or empty)')
    parser.add_argument('--data', help=f'the training text (default: {TEXT_FILE} beside this script)')
    parser.add_argument('--nproc', type=int, help='start this many local ranks (instead of torchrun or RANK/WORLD_SIZE)')
    parser.add_argument('--threads', type=int, help='torch threads per rank (default: torch\'s)')
    parser.add_argument('--cpu', action='store_true', help='gloo on the CPU even where CUDA is available')
    args = parser.parse_args(argv)
    if args.steps is not None and args.steps < 0:
        parser.error('--steps must be an integer ≥ 0')
    if args.nproc is not None and args.nproc < 1:
        parser.error('--nproc must be an integer ≥ 1')
    try:
        if args.nproc is not None:
            # fork: the ranks need not import torch again (CUDA needs fresh processes: spawn)
            method = 'spawn' if torch.cuda.is_available() and not args.cpu else 'fork'
            torch.multiprocessing.start_processes(spawned, args=(args.nproc, args, free_port()), nprocs=args.nproc, start_method=method)
            return 0
        rank, world = int(os.environ.get('RANK', 0)), int(os.environ.get('WORLD_SIZE', 1))
        if 'MASTER_ADDR' not in os.environ:  # one plain process: a group of one
            os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(free_port()))
        run_rank(rank, world, args)
        return 0
    except Refusal as refusal:
        print(f'train_ddp.py: {refusal}', file=sys.stderr)
        return 1
    except torch.multiprocessing.ProcessRaisedException as failure:
        last = str(failure).strip().splitlines()[-1]
        refused = last.partition('Refusal: ')[2]
        print(f'train_ddp.py: {refused or "a rank failed: " + last}', file=sys.stderr)
        return 1
    except torch.multiprocessing.ProcessExitedException as failure:
        print(f'train_ddp.py: {failure}', file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
