"""The PyTorch module an rnnkit sequence classifier (task "classify") IS (written by `rnnkit export DIR --pytorch
OUT_DIR`; rnnkit's parity fixtures use it too, through test/fixtures/sequence_classifier.py):

    from model import load
    model, meta = load('OUT_DIR')            # model.safetensors, loaded with strict=True
    logits = model(ids, lengths)             # ids [T,B] int64 (time-major), lengths [B] -> logits [B,C]

Sizes: V vocabulary (id 0 = every character not seen in training), C classes, E embedding width (0 = one-hot
input), H hidden, L layers, D directions (2 when bidirectional), T time steps, B sequences.

State-dict names: embed.weight [V,E] (only when E > 0), rnn.* (PyTorch's nn.RNN/LSTM/GRU names, `_reverse`
for the backward direction), head.weight [C,D·H], head.bias [C].

safetensors is read and written by hand (rnnkit_safetensors.py), so nothing but PyTorch is needed.
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rnnkit_safetensors import load_model_file, save_model_file  # noqa: E402  (beside this file)

MODEL_FORMAT = 1  # the `format` of rnnkit's model metadata


class SequenceClassifier(nn.Module):
    POOLS = ('last', 'mean', 'max')

    @staticmethod
    def make_rnn(cell, width, hidden, layers, bidirectional, nonlinearity='tanh'):
        """nn.RNN|nn.LSTM|nn.GRU(width, hidden, layers, bidirectional=…), time-major."""
        if cell == 'rnn':
            return nn.RNN(width, hidden, layers, nonlinearity=nonlinearity, bidirectional=bidirectional)
        if cell == 'lstm':
            return nn.LSTM(width, hidden, layers, bidirectional=bidirectional)
        if cell == 'gru':
            return nn.GRU(width, hidden, layers, bidirectional=bidirectional)
        raise ValueError(f'cell must be rnn, lstm or gru, got {cell!r}')

    def __init__(self, vocab, classes, cell, hidden, layers, embed, bidirectional, pool, nonlinearity='tanh'):
        super().__init__()
        if pool not in self.POOLS:
            raise ValueError(f'pool must be one of {self.POOLS}, got {pool!r}')
        self.vocab, self.embed_size, self.pool = vocab, embed, pool
        self.hidden, self.layers, self.directions = hidden, layers, 2 if bidirectional else 1
        if embed > 0:
            self.embed = nn.Embedding(vocab, embed)
        self.rnn = self.make_rnn(cell, embed if embed > 0 else vocab, hidden, layers, bidirectional, nonlinearity)
        self.head = nn.Linear(self.directions * hidden, classes)

    def forward(self, ids, lengths):
        """ids [T,B] int64 (time-major; values past a sequence's length are ignored), lengths [B] int64 on
        the CPU, each in 1..T → logits [B,C]. Zero initial state."""
        T = ids.shape[0]
        x = self.embed(ids) if self.embed_size > 0 else F.one_hot(ids, self.vocab).float()
        packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
        out, final = self.rnn(packed)
        h_n = final[0] if isinstance(final, tuple) else final  # LSTM: (h_n, c_n); pooling uses h_n
        if self.pool == 'last':
            # The top layer's final states, forward then backward: [B, D·H]. With packed input these are
            # the states after each sequence's own last step (forward) and after step 0 (backward).
            top = h_n[(self.layers - 1) * self.directions:]
            pooled = torch.cat(list(top), dim=1)
        else:
            out, _ = pad_packed_sequence(out, total_length=T)  # [T,B,D·H], zeros past each length
            if self.pool == 'mean':
                pooled = out.sum(0) / lengths.unsqueeze(1).to(out.dtype)
            else:
                padding = (torch.arange(T).unsqueeze(1) >= lengths.unsqueeze(0)).unsqueeze(2)  # [T,B,1]
                pooled = out.masked_fill(padding, float('-inf')).max(0).values
        return self.head(pooled)


def build(meta):
    """The module of rnnkit's model metadata (a dict), parameters uninitialised."""
    if meta.get('format') != MODEL_FORMAT:
        raise ValueError(f'model metadata format {meta.get("format")} is not supported (expected {MODEL_FORMAT})')
    if meta.get('task') != 'classify':
        raise ValueError(f'this is a model of task {meta.get("task", "lm")}, not a sequence classifier')
    return SequenceClassifier(len(meta['vocab']['chars']) + 1, len(meta['labels']), meta['cell'], meta['hidden'], meta['layers'],
                              meta['embed'], meta.get('bidirectional', False), meta['pool'], meta.get('nonlinearity', 'tanh'))


def load(directory):
    """(model, metadata) of DIRECTORY/model.safetensors, loaded with strict=True."""
    return load_model_file(directory, build)


def save(directory, model, meta):
    """Writes DIRECTORY/model.safetensors with rnnkit's metadata: rnnkit predict/eval read it."""
    save_model_file(directory, model, meta)
