"""The PyTorch module an rnnkit character language model IS (written by `rnnkit export DIR --pytorch OUT_DIR`).

    from model import load
    model, meta = load('OUT_DIR')            # model.safetensors, loaded with strict=True
    logits, state = model(ids)               # ids [B,T] int64 -> logits [B,T,V]

Sizes: V vocabulary, E embedding width (0 = one-hot input), H hidden, L layers, B streams, T time steps.
State-dict names (rnnkit's checkpoint uses them too): embed.weight [V,E] (only when E > 0), rnn.* (nn.RNN,
nn.LSTM or nn.GRU's own names), head.weight [V,H], head.bias [V]. It is the module of rnnkit's PyTorch parity
fixtures (test/fixtures/make_fixtures.py, CharModel).

safetensors is read and written by hand (rnnkit_safetensors.py), so nothing but PyTorch is needed.
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rnnkit_safetensors import load_model_file, save_model_file  # noqa: E402  (beside this file)

MODEL_FORMAT = 1  # the `format` of rnnkit's model metadata


class CharModel(nn.Module):
    def __init__(self, cell, nonlinearity, V, E, H, L):
        super().__init__()
        self.cell, self.V, self.E, self.L = cell, V, E, L
        if E > 0:
            self.embed = nn.Embedding(V, E)
        width = E if E > 0 else V
        if cell == 'rnn':
            self.rnn = nn.RNN(width, H, L, nonlinearity=nonlinearity, batch_first=True)
        elif cell == 'lstm':
            self.rnn = nn.LSTM(width, H, L, batch_first=True)
        elif cell == 'gru':
            self.rnn = nn.GRU(width, H, L, batch_first=True)
        else:
            raise ValueError(f'cell must be rnn, lstm or gru, got {cell!r}')
        self.head = nn.Linear(H, V)

    def forward(self, ids, state=None, layer_masks=None):
        """ids [B,T] -> (logits [B,T,V], final state: h [L,B,H], or (h, c) for the LSTM).

        layer_masks: None, or one [B,T,H] multiplier per layer above the first (inverted dropout on that
        layer's input, rnnkit's masks: see train_ddp.py); the layers then run one at a time."""
        x = self.embed(ids) if self.E > 0 else F.one_hot(ids, self.V).float()
        if layer_masks is None:
            out, final = self.rnn(x, state)
        else:
            out, final = self._layer_by_layer(x, state, layer_masks)
        return self.head(out), final

    def _layer_by_layer(self, x, state, layer_masks):
        """nn.RNN/LSTM/GRU's own kernel run on one layer at a time, so each layer's input can be masked."""
        lstm = self.cell == 'lstm'
        B, H = x.shape[0], self.rnn.hidden_size
        if state is None:
            zeros = x.new_zeros(self.L, B, H)
            state = (zeros, zeros) if lstm else zeros
        h0, c0 = state if lstm else (state, None)
        if self.cell == 'lstm':
            kernel = torch._VF.lstm
        elif self.cell == 'gru':
            kernel = torch._VF.gru
        else:
            kernel = torch._VF.rnn_tanh if self.rnn.nonlinearity == 'tanh' else torch._VF.rnn_relu
        hs, cs = [], []
        for l in range(self.L):
            if l > 0:
                x = x * layer_masks[l - 1]
            weights = [getattr(self.rnn, f'{kind}_l{l}') for kind in ('weight_ih', 'weight_hh', 'bias_ih', 'bias_hh')]
            if lstm:
                x, h, c = kernel(x, (h0[l:l + 1], c0[l:l + 1]), weights, True, 1, 0.0, self.training, False, True)
                cs.append(c)
            else:
                x, h = kernel(x, h0[l:l + 1], weights, True, 1, 0.0, self.training, False, True)
            hs.append(h)
        h = torch.cat(hs)
        return x, ((h, torch.cat(cs)) if lstm else h)


def build(meta):
    """The module of rnnkit's model metadata (a dict), parameters uninitialised."""
    if meta.get('format') != MODEL_FORMAT:
        raise ValueError(f'model metadata format {meta.get("format")} is not supported (expected {MODEL_FORMAT})')
    if meta.get('task', 'lm') != 'lm':
        raise ValueError(f'this is a model of task {meta["task"]}, not a character language model')
    return CharModel(meta['cell'], meta.get('nonlinearity', 'tanh'), len(meta['vocab']), meta['embed'], meta['hidden'], meta['layers'])


def load(directory):
    """(model, metadata) of DIRECTORY/model.safetensors, loaded with strict=True."""
    return load_model_file(directory, build)


def save(directory, model, meta):
    """Writes DIRECTORY/model.safetensors with rnnkit's metadata: rnnkit sample/eval/--init-from read it."""
    save_model_file(directory, model, meta)
