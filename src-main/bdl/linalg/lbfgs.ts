/**
 * Limited-memory BFGS minimisation (Nocedal 1980; Liu & Nocedal 1989; Nocedal & Wright,
 * Numerical Optimization, 2nd ed., Alg. 7.4 two-loop recursion + Alg. 3.5/3.6 line search for the
 * strong Wolfe conditions), with optional box constraints handled by projection (variables at a
 * bound whose gradient points outwards are frozen for the step, as a simple projected L-BFGS).
 *
 * Used for marginal-likelihood hyper-parameters of GPs (few variables, log-parameterised) and for
 * MAP estimation of softmax / linear last layers (≤ ~1300 variables).
 */

export interface LbfgsOptions {
  /** Maximum iterations (default 200). */
  maxIter?: number;
  /** History size m (default 10). */
  memory?: number;
  /** Stop when ‖projected gradient‖∞ ≤ gtol (default 1e-8). */
  gtol?: number;
  /** Stop when the relative decrease of f ≤ ftol (default 1e-12, as scipy's factr·eps ≈ 2.2e-9 would be looser). */
  ftol?: number;
  lower?: ArrayLike<number>;
  upper?: ArrayLike<number>;
}

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  gradient: Float64Array;
  iterations: number;
  evaluations: number;
  converged: boolean;
  message: string;
}

/** Objective: value and gradient at x (must not keep a reference to x). */
export type Objective = (x: Float64Array) => { value: number; gradient: ArrayLike<number> };

export function minimizeLbfgs(fun: Objective, x0: ArrayLike<number>, opts: LbfgsOptions = {}): LbfgsResult {
  const n = x0.length;
  const maxIter = opts.maxIter ?? 200;
  const m = opts.memory ?? 10;
  const gtol = opts.gtol ?? 1e-8;
  const ftol = opts.ftol ?? 1e-12;
  const lo = opts.lower;
  const hi = opts.upper;
  const project = (x: Float64Array) => {
    if (lo) for (let i = 0; i < n; i++) if (x[i] < lo[i]) x[i] = lo[i];
    if (hi) for (let i = 0; i < n; i++) if (x[i] > hi[i]) x[i] = hi[i];
    return x;
  };
  let evaluations = 0;
  const evaluate = (x: Float64Array) => {
    evaluations++;
    const r = fun(x);
    return { f: r.value, g: Float64Array.from(r.gradient) };
  };
  /** Variables at a bound with the gradient pushing out of the box. */
  const frozen = (x: Float64Array, g: Float64Array) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (lo && x[i] <= lo[i] && g[i] > 0) out[i] = 1;
      if (hi && x[i] >= hi[i] && g[i] < 0) out[i] = 1;
    }
    return out;
  };
  const projGradNorm = (x: Float64Array, g: Float64Array) => {
    const fr = frozen(x, g);
    let s = 0;
    for (let i = 0; i < n; i++) if (!fr[i]) s = Math.max(s, Math.abs(g[i]));
    return s;
  };

  let x: Float64Array = project(Float64Array.from(x0));
  let { f, g } = evaluate(x) as { f: number; g: Float64Array };
  if (!Number.isFinite(f)) throw new Error(`L-BFGS: objective is ${f} at the starting point`);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  let iterations = 0;
  let message = 'maximum iterations reached';
  let converged = false;
  for (; iterations < maxIter; iterations++) {
    if (projGradNorm(x, g) <= gtol) {
      converged = true;
      message = 'gradient below tolerance';
      break;
    }
    const fr = frozen(x, g);
    // two-loop recursion on the free variables
    const q = Float64Array.from(g);
    for (let i = 0; i < n; i++) if (fr[i]) q[i] = 0;
    const alpha = new Float64Array(S.length);
    for (let k = S.length - 1; k >= 0; k--) {
      alpha[k] = rho[k] * dot(S[k], q);
      axpy(-alpha[k], Y[k], q);
    }
    let gamma = 1;
    if (S.length > 0) {
      const k = S.length - 1;
      gamma = dot(S[k], Y[k]) / dot(Y[k], Y[k]);
    } else {
      const gn = Math.sqrt(dot(q, q));
      gamma = gn > 0 ? Math.min(1, 1 / gn) : 1;
    }
    for (let i = 0; i < n; i++) q[i] *= gamma;
    for (let k = 0; k < S.length; k++) {
      const beta = rho[k] * dot(Y[k], q);
      axpy(alpha[k] - beta, S[k], q);
    }
    const d = q;
    for (let i = 0; i < n; i++) d[i] = fr[i] ? 0 : -d[i];
    let dg = dot(d, g);
    if (!(dg < 0)) {
      // not a descent direction: restart from steepest descent
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let i = 0; i < n; i++) d[i] = fr[i] ? 0 : -g[i];
      dg = dot(d, g);
      if (!(dg < 0)) {
        converged = true;
        message = 'no descent direction';
        break;
      }
      const gn = Math.sqrt(-dg);
      for (let i = 0; i < n; i++) d[i] /= Math.max(1, gn);
      dg = dot(d, g);
    }
    const ls = lineSearch(evaluate, project, x, f, d, dg);
    if (!ls) {
      if (S.length > 0) {
        S.length = 0;
        Y.length = 0;
        rho.length = 0;
        continue;
      }
      message = 'line search failed';
      break;
    }
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = ls.x[i] - x[i];
      y[i] = ls.g[i] - g[i];
    }
    const fOld = f;
    x = ls.x;
    f = ls.f;
    g = ls.g;
    const sy = dot(s, y);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
      if (S.length > m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
    }
    if (Math.abs(fOld - f) <= ftol * Math.max(1, Math.abs(f))) {
      converged = true;
      message = 'relative reduction of f below tolerance';
      iterations++;
      break;
    }
  }
  return { x, f, gradient: g, iterations, evaluations, converged, message };
}

/**
 * Backtracking / zoom line search for the strong Wolfe conditions (c1 = 1e-4, c2 = 0.9) along d,
 * with the iterate projected onto the box. Returns null when no acceptable step was found.
 */
function lineSearch(
  evaluate: (x: Float64Array) => { f: number; g: Float64Array },
  project: (x: Float64Array) => Float64Array,
  x: Float64Array,
  f0: number,
  d: Float64Array,
  dg0: number,
): { x: Float64Array; f: number; g: Float64Array } | null {
  const c1 = 1e-4;
  const c2 = 0.9;
  const n = x.length;
  const at = (t: number) => {
    const xt = new Float64Array(n);
    for (let i = 0; i < n; i++) xt[i] = x[i] + t * d[i];
    project(xt);
    const r = evaluate(xt);
    // directional derivative along the actual (projected) displacement
    let dd = 0;
    for (let i = 0; i < n; i++) dd += r.g[i] * d[i];
    return { t, x: xt, f: r.f, g: r.g, dg: dd };
  };
  let tPrev = 0;
  let fPrev = f0;
  let dgPrev = dg0;
  let t = 1;
  let best: ReturnType<typeof at> | null = null;
  const zoom = (tLo: number, fLo: number, dgLo: number, tHi: number) => {
    for (let k = 0; k < 30; k++) {
      const tm = 0.5 * (tLo + tHi);
      const r = at(tm);
      if (!Number.isFinite(r.f) || r.f > f0 + c1 * tm * dg0 || r.f >= fLo) {
        tHi = tm;
      } else {
        if (Math.abs(r.dg) <= -c2 * dg0) return r;
        if (r.dg * (tHi - tLo) >= 0) tHi = tLo;
        tLo = tm;
        fLo = r.f;
        dgLo = r.dg;
        best = r;
      }
      if (Math.abs(tHi - tLo) < 1e-16) break;
    }
    void dgLo;
    return best;
  };
  for (let k = 0; k < 40; k++) {
    const r = at(t);
    if (!Number.isFinite(r.f) || r.f > f0 + c1 * t * dg0 || (k > 0 && r.f >= fPrev)) {
      if (!Number.isFinite(r.f) && k === 0) {
        // shrink until finite
        t *= 0.1;
        continue;
      }
      return zoom(tPrev, fPrev, dgPrev, t);
    }
    if (Math.abs(r.dg) <= -c2 * dg0) return r;
    if (r.dg >= 0) return zoom(t, r.f, r.dg, tPrev);
    best = r;
    tPrev = t;
    fPrev = r.f;
    dgPrev = r.dg;
    t *= 2;
    if (t > 1e10) break;
  }
  return best;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function axpy(alpha: number, x: ArrayLike<number>, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] += alpha * x[i];
}
