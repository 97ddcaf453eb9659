import type { AnalysisName } from '../config/runConfig';

/** Command ids and titles; package.json `contributes.commands` lists the same (a unit test checks). */
export const COMMANDS = {
  plotLandscape2D: { id: 'losscape.plotLandscape2D', title: 'Plot Loss Landscape (2D)' },
  plotLandscape1D: { id: 'losscape.plotLandscape1D', title: 'Plot Loss Landscape (1D)' },
  plotLandscapeBetweenCheckpoints: { id: 'losscape.plotLandscapeBetweenCheckpoints', title: 'Plot Loss Landscape Between Checkpoints' },
  measureSharpness: { id: 'losscape.measureSharpness', title: 'Measure Sharpness' },
  hessianSpectrum: { id: 'losscape.hessianSpectrum', title: 'Hessian Spectrum' },
  grokkingStatistics: { id: 'losscape.grokkingStatistics', title: 'Grokking Statistics' },
  trajectoryLandscape: { id: 'losscape.trajectoryLandscape', title: 'Trajectory Landscape' },
  pruneSaliency: { id: 'losscape.pruneSaliency', title: 'Pruning Saliency (M-FAC)' },
  compareLosses: { id: 'losscape.compareLosses', title: 'Compare Losses' },
  openResult: { id: 'losscape.openResult', title: 'Open Result' },
  cancelAnalysis: { id: 'losscape.cancelAnalysis', title: 'Cancel Analysis' },
  showEngineLog: { id: 'losscape.showEngineLog', title: 'Show Engine Log' },
  selectBackend: { id: 'losscape.selectBackend', title: 'Select Backend' },
  addConfiguration: { id: 'losscape.addConfiguration', title: 'Add Configuration…' },
  fitScalingLaw: { id: 'losscape.fitScalingLaw', title: 'Fit Scaling Law' },
  resumeLandscape: { id: 'losscape.resumeLandscape', title: 'Resume Landscape' },
} as const;

/** Run by CodeLens clicks; hidden from the palette. */
export const LENS_COMMAND = 'losscape.lensAction';

/** Set while an analysis runs: "Cancel Analysis" is offered only then (package.json `when`). */
export const RUNNING_CONTEXT_KEY = 'losscape.analysisRunning';

/** The custom editor of `*.losscape.json` files. */
export const RESULT_VIEW_TYPE = 'losscape.result';

/** The command that runs configurations of each analysis (named in messages about the wrong one). */
export const COMMAND_OF_ANALYSIS: Record<AnalysisName, { id: string; title: string }> = {
  landscape: COMMANDS.plotLandscape2D,
  sharpness: COMMANDS.measureSharpness,
  hessian: COMMANDS.hessianSpectrum,
  grokking: COMMANDS.grokkingStatistics,
  trajectory: COMMANDS.trajectoryLandscape,
  saliency: COMMANDS.pruneSaliency,
};
