"""What every task's train_ddp.py shares: rnnkit's trainer (src/train/trainer.ts) on DistributedDataParallel —
the learning-rate schedule, clipping, the optimizer and its saved state, non-finite steps, validation with early
stopping and best/, metrics.jsonl, checkpoints in rnnkit's format — and starting the processes.

A task (lm/train_ddp.py, classify/train_ddp.py) supplies the model, its share of each step's batch and loss,
its validation and its own saved state; see `Task`.
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
from torch.nn.parallel import DistributedDataParallel

from rnnkit_safetensors import read_safetensors, save_model_file, write_safetensors

TRAINER_FILE, MODEL_FILE = 'trainer.safetensors', 'model.safetensors'
TRAINER_FORMAT = 2
RUN_FILE, METRICS_FILE, BEST_DIR = 'run.json', 'metrics.jsonl', 'best'
MAX_CONSECUTIVE_SKIPS = 100  # as rnnkit: no update can happen any more
UINT32 = 0xFFFFFFFF


class Refusal(Exception):
    """A problem with the input: printed as one line, exit status 1."""


# ---------------------------------------------------------------- rnnkit's arithmetic, ported

def text_hash(text):
    """rnnkit's fingerprint (FNV-1a over the UTF-16 code units) and the length in those units."""
    h = 0x811C9DC5
    units = np.frombuffer(text.encode('utf-16-le'), dtype='<u2').tolist()
    for u in units:
        h = ((h ^ u) * 0x01000193) & UINT32
    return f'{h:08x}', len(units)


def splitmix32(seed):
    state = seed & UINT32

    def next_word():
        nonlocal state
        state = (state + 0x9E3779B9) & UINT32
        z = state
        z = ((z ^ (z >> 16)) * 0x85EBCA6B) & UINT32
        z = ((z ^ (z >> 13)) * 0xC2B2AE35) & UINT32
        return (z ^ (z >> 16)) & UINT32
    return next_word


class Random:
    """rnnkit's xoshiro128** (src/util/random.ts), from a saved state or from a seed."""

    def __init__(self, state):
        self.s = [int(w) & UINT32 for w in state]

    @classmethod
    def seeded(cls, seed):
        next_word = splitmix32(seed ^ (seed // 2 ** 32))
        return cls([next_word() for _ in range(4)])

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

    def uniform(self):
        """Uniform in [0, 1) with 53 random bits."""
        high = self.next_uint32() >> 5
        low = self.next_uint32() >> 6
        return (high * 67108864 + low) / 9007199254740992


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


def rnnkit_state_names(c):
    """The optimizer buffers rnnkit keeps for these settings (src/train/optimizer.ts)."""
    return {'sgd': ['momentum_buffer'] if c['momentum'] > 0 else [], 'adagrad': ['sum'], 'rmsprop': ['square_avg'],
            'adam': ['exp_avg', 'exp_avg_sq'], 'adamw': ['exp_avg', 'exp_avg_sq']}[c['optimizer']]


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


def clip(grads, c):
    """rnnkit's clipGradients: by value, then by global norm; returns the norm before clipping."""
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
    return norm


def finite_or_none(x):
    return x if isinstance(x, (int, float)) and math.isfinite(x) else None  # JSON has no NaN (JS writes null)


def load_flat(model, flat):
    """The trainer's flat parameters (state-dict order) into the model, with strict=True."""
    offset, state_dict = 0, {}
    for name, p in model.state_dict().items():
        state_dict[name] = flat[offset:offset + p.numel()].view_as(p)
        offset += p.numel()
    if offset != flat.numel():
        raise Refusal(f'{TRAINER_FILE} holds {flat.numel()} parameters, the model {offset}')
    model.load_state_dict(state_dict, strict=True)


def read_utf8(path):
    if not os.path.isfile(path):
        raise Refusal(f'{path}: no such file (give the training data with --data FILE)')
    with open(path, 'rb') as f:
        try:
            return f.read().decode('utf-8-sig')  # a leading byte-order mark is dropped, as rnnkit drops it
        except UnicodeDecodeError:
            raise Refusal(f'{path}: is not valid UTF-8 text') from None


# ---------------------------------------------------------------- the run

class Task:
    """What a task's train_ddp.py supplies (every rank builds one; `rank`, `world` say which share is its own).

    model                   the nn.Module, parameters loaded
    steps_per_epoch         batches in an epoch
    tokens_per_step(k)      real tokens of batch k (for tokens_per_s)
    loss_share(ddp, epoch, k, seed) -> (summed loss of this rank's share, the count the mean divides by)
    after_step(updated)     carried state moves on (or is dropped after a skipped step)
    validate() -> (loss, {metric: value}) or None; run on rank 0 only
    state_tensors() -> {name: flat tensor}; called on every rank (it may gather), used on rank 0
    """


def claim_out(out, rank, here, step, device):
    """Rank 0 prepares NEW_DIR; every rank learns whether it could, and why not (so none waits for a rank that
    stopped, and whichever rank the launcher reports first gives rank 0's reason)."""
    problem = ['']
    if rank == 0:
        try:
            prepare_out(out, here, step)
        except Refusal as refusal:
            problem[0] = str(refusal)
    dist.broadcast_object_list(problem, 0, device=device)  # nccl sends only CUDA tensors
    if problem[0]:
        raise Refusal(problem[0])


def prepare_out(out, here, step):
    """NEW_DIR: new or empty, then the run's run.json and its metrics.jsonl up to the checkpoint's step."""
    if os.path.exists(out) and (not os.path.isdir(out) or os.listdir(out)):
        raise Refusal(f'--out {out}: exists and is not an empty directory; choose a new one')
    os.makedirs(out, exist_ok=True)
    if os.path.exists(os.path.join(here, RUN_FILE)):
        shutil.copyfile(os.path.join(here, RUN_FILE), os.path.join(out, RUN_FILE))
    with open(os.path.join(out, METRICS_FILE), 'w') as kept:
        source = os.path.join(here, METRICS_FILE)
        if os.path.exists(source):
            for line in open(source):
                try:
                    if json.loads(line)['step'] <= step:
                        kept.write(line)
                except (ValueError, KeyError, TypeError):
                    pass  # not a metrics row (cut by a crash): rnnkit drops those too


def read_trainer(here, task_name):
    path = os.path.join(here, TRAINER_FILE)
    tensors, metadata = read_safetensors(path)
    meta = json.loads(metadata.get('rnnkit_trainer', 'null') or 'null')
    if not meta or meta.get('format') != TRAINER_FORMAT:
        raise Refusal(f'{path}: no rnnkit trainer metadata of format {TRAINER_FORMAT}')
    if meta['task'] != task_name:
        raise Refusal(f'{path}: a run of task {meta["task"]}; this script continues task {task_name}')
    return tensors, meta


def continue_run(args, rank, world, device, here, task_name, make_task):
    """rnnkit's training loop (src/train/trainer.ts execute) over DDP, from the run in `here` to args.steps."""
    tensors, meta = read_trainer(here, task_name)
    c, pos, data = dict(meta['config']), dict(meta['position']), dict(meta['data'])
    claim_out(args.out, rank, here, pos['step'], device)
    if args.steps is not None:
        c['steps'] = args.steps
    if c['steps'] < pos['step']:
        raise Refusal(f'--steps {c["steps"]} is below the checkpoint\'s step {pos["step"]}')
    if args.data:
        data['source'] = os.path.abspath(args.data)
    task = make_task(args, meta, c, tensors, rank, world, device)
    if pos['position'] >= task.steps_per_epoch:
        raise Refusal(f'{TRAINER_FILE} points past the end of the epoch')
    model = task.model
    params = list(model.parameters())
    ddp = DistributedDataParallel(model, device_ids=[device] if device.type == 'cuda' else None, broadcast_buffers=False)
    optimizer = make_optimizer(c, params)
    names = rnnkit_state_names(c)
    restore_optimizer(optimizer, params, {n: tensors['optimizer.' + n] for n in names}, pos['optimizerSteps'])
    model_meta = json.loads(read_safetensors(os.path.join(here, MODEL_FILE))[1]['rnnkit'])
    random = Random(pos['random'])
    epoch, k = pos['epoch'], pos['position']
    optimizer_steps, consecutive_skips = pos['optimizerSteps'], 0
    start_time, start_elapsed = time.time(), pos['elapsedS']
    window_start, window_tokens = time.time(), 0

    def checkpoint():
        """trainer.safetensors then model.safetensors, as rnnkit writes them."""
        own = task.state_tensors()
        if rank != 0:
            return
        pos.update(epoch=epoch, position=k, optimizerSteps=optimizer_steps, random=list(random.s),
                   elapsedS=start_elapsed + time.time() - start_time)
        saved = {'params': torch.cat([p.detach().reshape(-1).cpu() for p in params])}
        saved.update({'optimizer.' + n: t for n, t in optimizer_buffers(optimizer, params, names).items()})
        saved.update({'task.' + n: t for n, t in own.items()})
        trainer_meta = {'format': TRAINER_FORMAT, 'task': task_name, 'config': c, 'model': meta['model'],
                        'taskMeta': meta['taskMeta'], 'data': data, 'position': pos}
        write_safetensors(os.path.join(args.out, TRAINER_FILE), {n: t.reshape(-1).cpu() for n, t in saved.items()},
                          {'rnnkit_trainer': json.dumps(trainer_meta)})
        save_model_file(args.out, model, model_meta)

    metrics = open(os.path.join(args.out, METRICS_FILE), 'a') if rank == 0 else None
    stopped_early = False
    while pos['step'] < c['steps'] and not stopped_early:
        step = pos['step'] + 1
        step_epoch, step_k = epoch, k
        lr = learning_rate(c, step, step_epoch)
        seed = random.next_uint32() if c['dropout'] > 0 else None
        k += 1
        if k == task.steps_per_epoch:
            epoch, k = epoch + 1, 0

        optimizer.zero_grad(set_to_none=False)
        loss_sum, count = task.loss_share(ddp, step_epoch, step_k, seed)
        # DDP averages gradients over the ranks; rnnkit's loss is the mean over all `count` terms.
        (loss_sum * (world / count)).backward()
        total = loss_sum.detach().double().reshape(1)
        dist.all_reduce(total)
        loss = total.item() / count
        norm = clip([p.grad for p in params], c)
        updated = math.isfinite(loss) and math.isfinite(norm)
        pos['step'] = step
        task.after_step(updated)
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
                              f'at step {step}; nothing was written for it (lower the learning rate, clip, or set skipNonfinite)')
            pos['skippedSteps'] += 1
            consecutive_skips += 1
            if consecutive_skips >= MAX_CONSECUTIVE_SKIPS:
                raise Refusal(f'{consecutive_skips} consecutive steps (to step {step}) had a non-finite loss or gradient')
        window_tokens += task.tokens_per_step(step_epoch, step_k)

        validated = None
        if step % c['evalEvery'] == 0 or step == c['steps']:
            value = torch.full((1,), math.nan, dtype=torch.float64, device=device)
            found = None
            if rank == 0:
                found = task.validate()
                if found:
                    value[0] = found[0]
            dist.broadcast(value, 0)
            if not math.isnan(value.item()):
                val_loss = value.item()
                best = pos['bestValLoss'] is None or val_loss < pos['bestValLoss']
                if best:
                    pos['bestValLoss'], pos['evalsWithoutImprovement'] = val_loss, 0
                    if rank == 0:
                        save_model_file(os.path.join(args.out, BEST_DIR), model, model_meta)
                else:
                    pos['evalsWithoutImprovement'] += 1
                validated = {'val_loss': val_loss, **({f'val_{name}': v for name, v in found[1].items()} if found else {})}
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

def run_rank(rank, world, args, train):
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


def local_rank(index, world, args, port, train):
    """A rank of --nproc; a Refusal reaches the parent as the last line of the traceback it is sent."""
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), RANK=str(index), LOCAL_RANK=str(index), WORLD_SIZE=str(world))
    run_rank(index, world, args, train)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def main(description, data_help, train, argv=None):
    """The command line every train_ddp.py has; `train(args, rank, world, device)` runs one rank."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--steps', type=int, help="the run's total optimizer steps (default: the run's own)")
    parser.add_argument('--out', required=True, help='the new run directory (new or empty)')
    parser.add_argument('--data', help=data_help)
    parser.add_argument('--nproc', type=int, help='start this many local ranks (instead of torchrun or RANK/WORLD_SIZE)')
    parser.add_argument('--threads', type=int, help="torch threads per rank (default: torch's)")
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
            torch.multiprocessing.start_processes(local_rank, args=(args.nproc, args, free_port(), train), nprocs=args.nproc, start_method=method)
            return 0
        rank, world = int(os.environ.get('RANK', 0)), int(os.environ.get('WORLD_SIZE', 1))
        if 'MASTER_ADDR' not in os.environ:  # one plain process: a group of one
            os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(free_port()))
        run_rank(rank, world, args, train)
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
