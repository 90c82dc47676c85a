// Step 3 of scripts/check-arm64.sh, run by an arm64 Node: one training step (forward + backward) of small
// 2-layer LSTM, GRU and RNN models on the cross-built addon at its neon and scalar levels, compared with
// the reference backend (loss and gradient norm). Exit status 1 on a mismatch.
import { resolve } from 'node:path';
import { loadNativeBackend } from '../dist/backend/native.js';
import { ReferenceBackend } from '../dist/backend/reference.js';
import { Model } from '../dist/model/model.js';
import { Workspace } from '../dist/model/workspace.js';

const addonPath = resolve(process.argv[2] ?? 'prebuilds/linux-arm64/rnnkit.glibc.node');
const T = 16,
  B = 12,
  V = 23;

/** Loss and gradient norm of one chunk for each cell. */
function step(backend) {
  return ['lstm', 'gru', 'rnn'].map((cell) => {
    const model = new Model(backend, {
      cell,
      nonlinearity: 'tanh',
      hidden: 40,
      layers: 2,
      embed: 0,
      vocabSize: V,
      dropout: 0,
    });
    model.initialize(7);
    const workspace = new Workspace(model, T, B);
    for (let i = 0; i < T * B; i++) {
      workspace.ids.data[i] = (i * 7) % V;
      workspace.targets.data[i] = (i * 5 + 3) % V;
    }
    const loss = workspace.forward(T);
    model.zeroGrads();
    workspace.backward(T);
    const norm = Math.sqrt(model.grads.all.data.reduce((sum, g) => sum + g * g, 0));
    return { cell, loss, norm };
  });
}

const expected = step(new ReferenceBackend());
let worst = 0;
for (const simd of ['neon', 'scalar']) {
  const backend = loadNativeBackend({ addonPath, simd, threads: 2 });
  step(backend).forEach(({ cell, loss, norm }, i) => {
    const ref = expected[i];
    const error = Math.max(Math.abs(loss - ref.loss) / ref.loss, Math.abs(norm - ref.norm) / ref.norm);
    worst = Math.max(worst, error);
    console.log(
      `${process.arch} ${simd} ${cell}: loss ${loss.toFixed(6)} (reference ${ref.loss.toFixed(6)}), gradient norm ${norm.toFixed(6)} (${ref.norm.toFixed(6)}), relative error ${error.toExponential(1)}`,
    );
  });
}
console.log(`arm64 check: ${worst < 1e-4 ? 'OK' : 'MISMATCH'} (worst relative error ${worst.toExponential(1)})`);
process.exitCode = worst < 1e-4 ? 0 : 1;
