/**
 * One entry point for every saved-model format, chosen by file extension (the formats share no
 * reliable magic bytes: model.json is text, .keras a zip, .h5 HDF5).
 */
import * as path from 'node:path';
import { InputError } from '../../shared/errors';
import { loadKerasArchive, loadKerasH5 } from './keras';
import { loadLayersModelFromFile, type LoadedModel } from './modelJson';

export type { LoadedModel } from './modelJson';

export const MODEL_FORMATS = 'TF.js Layers model.json, Keras .keras (Keras 3) and Keras .h5/.hdf5 (legacy HDF5)';

export async function loadModel(file: string): Promise<LoadedModel> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.json') return loadLayersModelFromFile(file);
  if (ext === '.keras') return loadKerasArchive(file);
  if (ext === '.h5' || ext === '.hdf5') return loadKerasH5(file);
  throw new InputError(file, `is not a model format Losscape reads (${ext || 'no extension'}); supported: ${MODEL_FORMATS}`);
}
