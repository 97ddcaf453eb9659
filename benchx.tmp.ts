import { benchExactCurvature } from '/work/wt-issue-9a/scripts/bench/exactCurvature';
benchExactCurvature().then((rows) => { for (const r of rows) console.log(`${r.name.padEnd(80)} ${r.seconds.toFixed(3).padStart(8)} ${(r.ratio === undefined ? '' : r.ratio.toFixed(2) + 'x').padStart(7)}  ${r.note ?? ''}`); });
