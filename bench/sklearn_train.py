"""scikit-learn contender of bench/train.ts: one process per run, so ru_maxrss is this run's peak.

    /usr/bin/python3 bench/sklearn_train.py train '{"dir": ..., "trees": 100, "jobs": -1, "serving": null}'
    /usr/bin/python3 bench/sklearn_train.py load  '{"model": ..., "xtest": ..., "width": 20, "expected": ...}'

Reads the data set bench/train.ts wrote (raw little-endian float64: X row-major, y; header.json) and
prints ONE JSON line on stdout. Any failure prints {"ok": false, "error": ...} and exits 1.
"""
import json
import os
import pickle
import resource
import sys
import time
import traceback


def rss_mb(peak=True):
    if peak:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20


def read(path, np, width=None):
    a = np.fromfile(path, dtype='<f8')
    return a.reshape(-1, width) if width else a


def best_of(fn, repeats):
    """Seconds of the fastest of `repeats` calls (after one warm-up call): noise only ever slows a run."""
    fn()
    best = float('inf')
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def train(spec):
    import numpy as np
    from sklearn import __version__ as sklearn_version
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.metrics import accuracy_score, r2_score

    baseline = rss_mb(peak=False)
    d = spec['dir']
    with open(os.path.join(d, 'header.json')) as f:
        h = json.load(f)
    w = h['width']
    X = read(os.path.join(d, 'X_train.f64'), np, w)
    y = read(os.path.join(d, 'y_train.f64'), np)
    Xt = read(os.path.join(d, 'X_test.f64'), np, w)
    yt = read(os.path.join(d, 'y_test.f64'), np)
    classification = h['task'] == 'classification'
    if classification:
        y, yt = y.astype(np.int64), yt.astype(np.int64)
        model = RandomForestClassifier(n_estimators=spec['trees'], random_state=0, n_jobs=spec['jobs'])
    else:
        model = RandomForestRegressor(n_estimators=spec['trees'], random_state=0, n_jobs=spec['jobs'])

    t = time.perf_counter()
    model.fit(X, y)
    train_s = time.perf_counter() - t
    t = time.perf_counter()
    pred = model.predict(Xt)
    predict_s = time.perf_counter() - t
    score = accuracy_score(yt, pred) if classification else r2_score(yt, pred)
    out = {
        'ok': True,
        'sklearn': sklearn_version,
        'trainS': train_s,
        'predictS': predict_s,
        'score': float(score),
        'metric': 'accuracy' if classification else 'r2',
        'nodes': int(sum(e.tree_.node_count for e in model.estimators_)),
        'baselineRssMB': baseline,
    }
    if spec.get('serving'):
        out['serving'] = serving(model, np, np.vstack([X, Xt]), Xt, pred, spec['serving'])
    out['peakRssMB'] = rss_mb()
    print(json.dumps(out), flush=True)


def serving(model, np, X_all, Xt, pred, out_dir):
    """Batch and one-row prediction speed, and the pickled model for the load test."""
    rows = X_all.shape[0]
    batch = {}
    for jobs in (1, -1):
        model.set_params(n_jobs=jobs)
        s = best_of(lambda: model.predict(X_all), 5)
        batch[str(jobs)] = {'rows': rows, 'seconds': s, 'rowsPerS': rows / s}
    single = {}
    for jobs, calls in ((1, 500), (-1, 100)):
        model.set_params(n_jobs=jobs)
        one = [X_all[i:i + 1] for i in range(min(rows, calls))]
        for x in one[:20]:
            model.predict(x)
        t = time.perf_counter()
        for x in one:
            model.predict(x)
        single[str(jobs)] = {'calls': len(one), 'meanUs': (time.perf_counter() - t) / len(one) * 1e6}
    model.set_params(n_jobs=1)
    path = os.path.join(out_dir, 'model.pkl')
    with open(path, 'wb') as f:
        pickle.dump(model, f, protocol=pickle.HIGHEST_PROTOCOL)
    np.asarray(pred, dtype='<f8').tofile(os.path.join(out_dir, 'pred_sklearn.f64'))
    return {'batch': batch, 'single': single, 'pickle': {'path': path, 'bytes': os.path.getsize(path), 'protocol': pickle.HIGHEST_PROTOCOL}}


def load(spec):
    # Imports are not the model's load: a server has them loaded before it reads a model.
    import numpy as np
    import sklearn.ensemble  # noqa: F401

    def once():
        with open(spec['model'], 'rb') as f:
            return pickle.load(f)

    t = time.perf_counter()
    model = once()
    cold = time.perf_counter() - t
    warm = best_of(once, 5)
    Xt = read(spec['xtest'], np, spec['width'])
    expected = read(spec['expected'], np)
    agree = int((model.predict(Xt) == expected).sum())
    print(json.dumps({'ok': True, 'coldS': cold, 'warmS': warm, 'agree': agree, 'rows': int(Xt.shape[0]), 'peakRssMB': rss_mb()}), flush=True)


if __name__ == '__main__':
    try:
        {'train': train, 'load': load}[sys.argv[1]](json.loads(sys.argv[2]))
    except BaseException as e:  # MemoryError too: report it, do not hide it
        print(json.dumps({'ok': False, 'error': f'{type(e).__name__}: {e}', 'trace': traceback.format_exc()[-2000:]}), flush=True)
        sys.exit(1)
