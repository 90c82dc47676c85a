// Non-finite numbers never reach a checkpoint nor leave one: the first NaN/Inf of a set of tensors, by name.

/** The first tensor holding NaN or ±Inf, with the value and where it is; null when all are finite. */
export function firstNonFinite(
  tensors: Iterable<{ name: string; data: ArrayLike<number> }>,
): { name: string; index: number; value: number } | null {
  for (const { name, data } of tensors) {
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) return { name, index: i, value: data[i]! };
    }
  }
  return null;
}

/** "tensor NAME holds NaN (at index I)" for the first non-finite tensor, or null. */
export function describeNonFinite(tensors: Iterable<{ name: string; data: ArrayLike<number> }>): string | null {
  const found = firstNonFinite(tensors);
  return found && `tensor ${found.name} holds ${found.value} (at index ${found.index})`;
}
