import { Box, Paper, Stack, Table, TableBody, TableCell, TableHead, TableRow, Typography } from '@mui/material';
import type { JobStateT } from '../../src-main/service/contract.ts';
import { formatSeconds } from '../hooks/useJob.ts';
import { LearningCurveChart } from './LearningCurveChart.tsx';

export type SimulateResult = Extract<NonNullable<JobStateT['result']>, { kind: 'simulate' }>;
type Quartiles = SimulateResult['acquisitions'][number]['labelsTo90'];

/** Labels to reach an accuracy: null is a quartile of seeds that never reached it. */
const labels = (v: number | null) => (v === null ? '∞' : String(Math.round(v)));
const percent = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)}%`);
const quartiles = (q: Quartiles, format: (v: number | null) => string) => (q.median === null ? 'not reached' : `${format(q.median)} [${format(q.q1)}–${format(q.q3)}]`);

/** A simulation's results, finished or cut short: per acquisition function, labels to 90% / 95% and the final accuracy, and the learning curves. */
export function SimulateResults({ result }: { result: SimulateResult }) {
  return (
    <Paper variant="outlined" sx={{ p: 2 }} data-testid="simulate-results">
      <Stack spacing={2}>
        <Box>
          <Typography variant="subtitle2">{result.complete ? 'Results' : 'Partial results'}</Typography>
          {!result.complete && (
            <Typography variant="body2" color="warning.main" data-testid="simulate-partial">
              The simulation stopped before every run finished; these are the rounds measured until then.
            </Typography>
          )}
          <Typography variant="body2" color="text.secondary">
            {result.rounds} model{result.rounds === 1 ? '' : 's'} trained and evaluated in {formatSeconds(result.seconds)}. Median [q1–q3] over seeds; ∞: that quartile of seeds did not reach the accuracy.
          </Typography>
        </Box>
        <Table size="small" data-testid="simulate-table">
          <TableHead>
            <TableRow>
              <TableCell>Acquisition</TableCell>
              <TableCell align="right">Seeds</TableCell>
              <TableCell align="right">Labels to 90%</TableCell>
              <TableCell align="right">Labels to 95%</TableCell>
              <TableCell align="right">Final accuracy</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {result.acquisitions.map((a) => (
              <TableRow key={a.acquisition} data-testid="simulate-row" data-acquisition={a.acquisition}>
                <TableCell>{a.acquisition}</TableCell>
                <TableCell align="right">{a.seeds}</TableCell>
                <TableCell align="right">{quartiles(a.labelsTo90, labels)}</TableCell>
                <TableCell align="right">{quartiles(a.labelsTo95, labels)}</TableCell>
                <TableCell align="right">{quartiles(a.finalAccuracy, percent)}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
        <LearningCurveChart
          title="Learning curve: median over seeds, q1–q3 band"
          testId="simulate-curve"
          curves={result.acquisitions.map((a) => ({ id: a.acquisition, label: a.acquisition, points: a.curve.map((c) => ({ labels: c.labels, value: c.median, lower: c.q1, upper: c.q3 })) }))}
          yLabel="held-out accuracy"
          yRange={{ min: 0, max: 1 }}
          emptyText="No round finished."
        />
        {result.out && (
          <Typography variant="body2" data-testid="simulate-out">
            rounds.csv, summary.json and learning-curve.svg written to <Box component="code" sx={{ wordBreak: 'break-all' }}>{result.out}</Box>
          </Typography>
        )}
      </Stack>
    </Paper>
  );
}
