"""safetensors, read and written by hand so that nothing but PyTorch is needed: an 8-byte little-endian header
length N, N bytes of JSON (tensor name -> dtype, shape, data_offsets; `__metadata__`: string -> string), then
the raw little-endian float32 data, tensors back to back. rnnkit writes its files in this format."""
import json
import os
import struct

import torch


def read_safetensors(path):
    """-> ({name: float32 tensor}, {metadata key: string}), in the file's order; refuses anything malformed."""
    with open(path, 'rb') as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f'{path}: too short to be safetensors')
    (n,) = struct.unpack('<Q', raw[:8])
    if n > len(raw) - 8:
        raise ValueError(f'{path}: header length {n} exceeds the file')
    header = json.loads(raw[8:8 + n].decode('utf-8'))
    data = memoryview(raw)[8 + n:]
    metadata = header.pop('__metadata__', {})
    tensors, covered = {}, 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]['data_offsets'][0]):
        if info['dtype'] != 'F32':
            raise ValueError(f'{path}: tensor {name} has dtype {info["dtype"]}; only F32 is supported')
        begin, end = info['data_offsets']
        count = 1
        for d in info['shape']:
            count *= d
        if begin != covered or end - begin != 4 * count:
            raise ValueError(f'{path}: tensor {name} has inconsistent data_offsets {info["data_offsets"]}')
        values = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32) if count else torch.zeros(0)
        tensors[name] = values.reshape(info['shape'])
        covered = end
    if covered != len(data):
        raise ValueError(f'{path}: {len(data) - covered} trailing bytes')
    return {k: tensors[k] for k in header}, metadata  # the JSON's order: rnnkit writes state-dict order


def write_safetensors(path, tensors, metadata):
    """Writes {name: tensor} (as float32, in the given order) with string metadata, atomically."""
    header = {'__metadata__': metadata}
    blobs, offset = [], 0
    for name, t in tensors.items():
        b = t.detach().to('cpu', torch.float32).contiguous().numpy().astype('<f4', copy=False).tobytes(order='C')
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * ((8 - len(text) % 8) % 8)  # keep the data 8-byte aligned
    temporary = f'{path}.{os.getpid()}.tmp'
    with open(temporary, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


MODEL_FILE = 'model.safetensors'


def load_model_file(directory, build):
    """(model, metadata) of DIRECTORY/model.safetensors: build(metadata) makes the module, which then loads the
    tensors with strict=True."""
    tensors, metadata = read_safetensors(os.path.join(directory, MODEL_FILE))
    meta = json.loads(metadata['rnnkit'])
    model = build(meta)
    model.load_state_dict(tensors, strict=True)
    return model, meta


def save_model_file(directory, model, meta):
    """Writes DIRECTORY/model.safetensors with rnnkit's metadata (the dict `meta`), as rnnkit writes it."""
    os.makedirs(directory, exist_ok=True)
    write_safetensors(os.path.join(directory, MODEL_FILE), model.state_dict(), {'rnnkit': json.dumps(meta)})
