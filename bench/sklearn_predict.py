"""scikit-learn contender of bench/predict.ts: one process per step, so ru_maxrss is that step's peak.

    /usr/bin/python3 bench/sklearn_predict.py train '{"csv": ..., "target": "class", "trees": 100, "model": ...}'
    /usr/bin/python3 bench/sklearn_predict.py csv   '{"model": ..., "input": "big.csv", "out": ...}'
    /usr/bin/python3 bench/sklearn_predict.py pg    '{"model": ..., "dsn": "postgresql://...", "table": ..., "out": ...}'

Scoring is what a user of pandas and scikit-learn writes: read the rows into a DataFrame (read_csv, or
read_sql through psycopg2), predict_proba with the forest (n_jobs=-1, every core, as mlpipe predict
uses), write the prediction and one proba_<class> column per class with to_csv. Imports are timed
apart (importS) and left out of workS, which covers loading the pickled model, reading, predicting and
writing. Prints ONE JSON line on stdout; any failure prints {"ok": false, "error": ...} and exits 1.
"""
import json
import pickle
import resource
import sys
import time
import traceback


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def train(spec):
    import pandas as pd
    from sklearn import __version__ as sklearn_version
    from sklearn.ensemble import RandomForestClassifier

    df = pd.read_csv(spec['csv'])
    y = df.pop(spec['target']).astype(str)
    model = RandomForestClassifier(n_estimators=spec['trees'], random_state=0, n_jobs=-1)
    t = time.perf_counter()
    model.fit(df, y)
    train_s = time.perf_counter() - t
    with open(spec['model'], 'wb') as f:
        pickle.dump(model, f, protocol=pickle.HIGHEST_PROTOCOL)
    print(json.dumps({'ok': True, 'sklearn': sklearn_version, 'pandas': pd.__version__, 'trainS': train_s, 'rows': len(df), 'peakRssMB': peak_mb()}), flush=True)


def score(spec, read):
    t0 = time.perf_counter()
    import pandas as pd
    import sklearn.ensemble  # noqa: F401  (unpickling needs it; an import, not work)
    t1 = time.perf_counter()
    with open(spec['model'], 'rb') as f:
        model = pickle.load(f)
    model.set_params(n_jobs=-1)
    t2 = time.perf_counter()
    df = read(pd)
    t3 = time.perf_counter()
    proba = model.predict_proba(df[list(model.feature_names_in_)])
    t4 = time.perf_counter()
    out = pd.DataFrame(proba, columns=[f'proba_{c}' for c in model.classes_])
    out.insert(0, 'prediction', model.classes_[proba.argmax(axis=1)])
    out.to_csv(spec['out'], index=False)
    t5 = time.perf_counter()
    print(json.dumps({
        'ok': True,
        'rows': len(out),
        'importS': t1 - t0,
        'modelS': t2 - t1,
        'readS': t3 - t2,
        'predictS': t4 - t3,
        'writeS': t5 - t4,
        'workS': t5 - t1,
        'peakRssMB': peak_mb(),
    }), flush=True)


def from_csv(spec):
    score(spec, lambda pd: pd.read_csv(spec['input']))


def from_pg(spec):
    import psycopg2

    def read(pd):
        conn = psycopg2.connect(spec['dsn'])
        try:
            # pandas 1.x takes a DBAPI connection as it is (SQLAlchemy is not installed by bench-deps).
            return pd.read_sql(f'SELECT * FROM {spec["table"]}', conn)
        finally:
            conn.close()

    score(spec, read)


if __name__ == '__main__':
    try:
        {'train': train, 'csv': from_csv, 'pg': from_pg}[sys.argv[1]](json.loads(sys.argv[2]))
    except BaseException as e:  # MemoryError too: report it, do not hide it
        print(json.dumps({'ok': False, 'error': f'{type(e).__name__}: {e}', 'trace': traceback.format_exc()[-2000:]}), flush=True)
        sys.exit(1)
