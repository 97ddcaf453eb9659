/** One row of the benchmark table: a measured time, optionally as a ratio to a baseline of the same run. */
export interface Row {
  name: string;
  seconds: number;
  /** Time relative to the row's baseline (stated in `note`), measured in the same run. */
  ratio?: number;
  note?: string;
}
