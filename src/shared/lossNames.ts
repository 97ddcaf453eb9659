/**
 * Library loss names (Keras, TF.js, PyTorch spellings) → the engine's loss names: the one
 * table, shared by the engine (which implements the losses) and the extension host (CodeLens,
 * QuickPicks), which must not load TensorFlow.js. Pure.
 */
export type EngineLossName =
  | 'categorical_crossentropy'
  | 'binary_crossentropy'
  | 'mse'
  | 'mae'
  | 'huber'
  | 'hinge'
  | 'comp_sum'
  | 'gce'
  | 'zloss'
  | 'taylor_softmax'
  | 'multi_similarity'
  | 'proto_triplet'
  | 'icnn'
  | 'cs_divergence';

export const ENGINE_LOSSES: ReadonlyArray<{ name: EngineLossName; label: string }> = [
  { name: 'categorical_crossentropy', label: 'Categorical cross-entropy (also sparse labels; PyTorch CrossEntropyLoss)' },
  { name: 'binary_crossentropy', label: 'Binary cross-entropy (BCELoss, BCEWithLogitsLoss)' },
  { name: 'mse', label: 'Mean squared error (MSELoss)' },
  { name: 'mae', label: 'Mean absolute error (L1Loss)' },
  { name: 'huber', label: 'Huber (HuberLoss, SmoothL1Loss)' },
  { name: 'hinge', label: 'Hinge' },
  { name: 'comp_sum', label: 'Comp-sum loss Φ_τ (Mao, Mohri & Zhong 2023; tau ∈ [0, 2])' },
  { name: 'gce', label: 'Generalised cross-entropy (1 − p_y^q)/q (Zhang & Sabuncu 2018)' },
  { name: 'zloss', label: 'Z-loss (de Brébisson & Vincent 2016; shift and scale invariant)' },
  { name: 'taylor_softmax', label: 'Log-Taylor-softmax, order 2 (spherical family)' },
  { name: 'multi_similarity', label: 'Multi-similarity loss on embeddings (Wang et al. 2019; batch-level)' },
  { name: 'proto_triplet', label: 'Proto-triplet loss on few-shot episodes (Mendez-Ruiz et al. 2023; --episode N,K,Q)' },
  { name: 'icnn', label: 'ICNN loss −log(ICNN score) on few-shot episodes (Mendez-Ruiz et al. 2023; --episode N,K,Q)' },
  { name: 'cs_divergence', label: 'Cauchy–Schwarz divergence of predictions and targets, Gaussian kernel (Yu et al. 2024; batch-level)' },
];

export interface BuiltinLoss {
  name: EngineLossName;
  /** Set when the library name fixes the output convention (PyTorch CrossEntropyLoss takes logits). */
  fromLogits?: boolean;
}

/** Keys are normalised: lower case, letters and digits only. */
const ALIASES: Readonly<Record<string, BuiltinLoss>> = {
  categoricalcrossentropy: { name: 'categorical_crossentropy' },
  cce: { name: 'categorical_crossentropy' },
  ce: { name: 'categorical_crossentropy' },
  sparsecategoricalcrossentropy: { name: 'categorical_crossentropy' },
  crossentropy: { name: 'categorical_crossentropy' },
  softmaxcrossentropy: { name: 'categorical_crossentropy', fromLogits: true },
  crossentropyloss: { name: 'categorical_crossentropy', fromLogits: true },
  binarycrossentropy: { name: 'binary_crossentropy' },
  bce: { name: 'binary_crossentropy' },
  bceloss: { name: 'binary_crossentropy', fromLogits: false },
  bcewithlogitsloss: { name: 'binary_crossentropy', fromLogits: true },
  sigmoidcrossentropy: { name: 'binary_crossentropy', fromLogits: true },
  mse: { name: 'mse' },
  meansquarederror: { name: 'mse' },
  mseloss: { name: 'mse' },
  mae: { name: 'mae' },
  meanabsoluteerror: { name: 'mae' },
  l1loss: { name: 'mae' },
  huber: { name: 'huber' },
  huberloss: { name: 'huber' },
  smoothl1loss: { name: 'huber' },
  hinge: { name: 'hinge' },
  hingeloss: { name: 'hinge' },
  compsum: { name: 'comp_sum' },
  gce: { name: 'gce' },
  generalizedcrossentropy: { name: 'gce' },
  generalisedcrossentropy: { name: 'gce' },
  zloss: { name: 'zloss' },
  taylorsoftmax: { name: 'taylor_softmax' },
  multisimilarity: { name: 'multi_similarity' },
  multisimilarityloss: { name: 'multi_similarity' },
  prototriplet: { name: 'proto_triplet' },
  prototripletloss: { name: 'proto_triplet' },
  icnn: { name: 'icnn' },
  icnnloss: { name: 'icnn' },
  csdivergence: { name: 'cs_divergence' },
  csdiv: { name: 'cs_divergence' },
  cauchyschwarzdivergence: { name: 'cs_divergence' },
};

/** Every alias key. */
export const BUILTIN_ALIAS_KEYS: readonly string[] = Object.keys(ALIASES);

export const SUPPORTED_LOSSES =
  'categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy, mse, mae, huber, hinge ' +
  '(also their TF.js camelCase names and PyTorch CrossEntropyLoss, BCELoss, BCEWithLogitsLoss, MSELoss, L1Loss, HuberLoss, SmoothL1Loss), ' +
  'ce, and the papers\' losses comp_sum, gce, zloss, taylor_softmax, multi_similarity, proto_triplet, icnn, cs_divergence';

export function normaliseLossName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** The engine loss a library name stands for, or undefined when the engine has no such loss. */
export function builtinLoss(name: string): BuiltinLoss | undefined {
  return ALIASES[normaliseLossName(name)];
}
