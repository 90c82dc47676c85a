// Optimizers as one fused update over the flat parameter arena, with PyTorch's update rules and defaults.
import type { Backend, F } from '../backend/types.js';
import { Span } from '../backend/types.js';
import { invalidOption } from '../errors.js';

export const OPTIMIZERS = ['adagrad', 'sgd'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export interface OptimizerOptions {
  name: OptimizerName;
  weightDecay?: number;
  /** Adagrad's eps (PyTorch default 1e-10). */
  eps?: number;
}

export class Optimizer {
  /** Optimizer state laid out like the parameters (Adagrad: the running sum of squared gradients). */
  readonly state: F;

  constructor(
    private readonly backend: Backend,
    readonly options: OptimizerOptions,
    parameterCount: number,
  ) {
    if (!(OPTIMIZERS as readonly string[]).includes(options.name)) {
      throw invalidOption(`optimizer must be one of ${OPTIMIZERS.join(', ')}, got ${JSON.stringify(options.name)}`);
    }
    this.state = Span.of(backend.allocFloat(options.name === 'adagrad' ? parameterCount : 0));
  }

  step(params: F, grads: F, lr: number): void {
    const weightDecay = this.options.weightDecay ?? 0;
    if (this.options.name === 'adagrad') this.backend.adagradUpdate(params, grads, this.state, lr, this.options.eps ?? 1e-10, weightDecay);
    else this.backend.sgdUpdate(params, grads, lr, weightDecay);
  }
}

/**
 * Clips by value (each element to ±clipValue), then by global norm (scale all when the norm exceeds
 * clipNorm); 0 turns either off. Returns the global norm before any clipping.
 */
export function clipGradients(backend: Backend, grads: F, clipValue: number, clipNorm: number): number {
  const norm = Math.sqrt(backend.sumSquares(grads));
  if (clipValue > 0) backend.clipValue(grads, clipValue);
  if (clipNorm > 0) {
    const clippedNorm = clipValue > 0 ? Math.sqrt(backend.sumSquares(grads)) : norm;
    const coefficient = clipNorm / (clippedNorm + 1e-6); // as torch.nn.utils.clip_grad_norm_
    if (coefficient < 1) backend.scale(grads, coefficient);
  }
  return norm;
}
