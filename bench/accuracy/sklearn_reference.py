"""scikit-learn side of bench/accuracy/reference.ts: the reference scores of test/accuracy.test.ts.

    /usr/bin/python3 bench/accuracy/sklearn_reference.py SPEC.json

SPEC.json (written by reference.ts) names each table's file, target, task, date columns and, per
seed, the row numbers mlpipe's seeded holdout puts in training and in test (computed with mlpipe's
own holdoutSplit, so both sides score the same rows). This script reads each table with pandas
itself, builds the scikit-learn equivalent of mlpipe's automatic plan, fits it on the training rows
only, and scores a RandomForest with mlpipe's default parameters, once per forest seed. Prints ONE
JSON document on stdout; any failure prints {"ok": false, "error": ...} and exits 1.

The automatic plan, in scikit-learn terms (the column roles are decided here from pandas' dtypes,
not taken from mlpipe):
  numbers     SimpleImputer(median, add_indicator=True)   (an indicator only where training had gaps)
  strings     SimpleImputer(constant "<missing>") + OneHotEncoder(min_frequency=2, max_categories=21,
              handle_unknown="infrequent_if_exist"): the 20 most frequent values seen twice + the rest
  dates       year, month, day of year, day of week (Monday = 0, UTC); a missing date is the median
              training date + an indicator
  dropped     the target; constant or empty columns; strings where every value, or >= 95% of them
              over 20+ rows, is distinct (names, titles). (mlpipe also drops integer row numbers and
              free text; none of these tables has either.)
"""
import json
import platform
import sys
import traceback


def read_table(path):
    import pandas as pd

    if path.endswith('.json'):
        # from_records: no dtype or date guessing (pd.read_json converts columns it thinks are dates).
        with open(path, encoding='utf-8') as f:
            return pd.DataFrame.from_records(json.load(f))
    if path.endswith('.csv'):
        return pd.read_csv(path)
    raise ValueError(f'{path}: only .json and .csv tables')


def make_date_parts():
    import numpy as np
    import pandas as pd
    from sklearn.base import BaseEstimator, TransformerMixin

    class DateParts(BaseEstimator, TransformerMixin):
        """Dates (datetime64 columns) → year, month, day of year, day of week; missing → median date."""

        def fit(self, X, y=None):
            X = pd.DataFrame(X)
            self.fill_ = [X[c].dropna().astype('int64').median() for c in X.columns]
            self.indicator_ = [bool(X[c].isna().any()) for c in X.columns]
            return self

        def transform(self, X):
            X = pd.DataFrame(X)
            out = []
            for c, fill, ind in zip(X.columns, self.fill_, self.indicator_):
                missing = X[c].isna()
                d = X[c].fillna(pd.Timestamp(int(fill)))
                out += [d.dt.year, d.dt.month, d.dt.dayofyear, d.dt.dayofweek]
                if ind:
                    out.append(missing.astype('int64'))
            return np.column_stack([np.asarray(o, dtype='float64') for o in out])

    return DateParts


def plan(df, target, dates):
    """The columns of each role, and the dropped ones with the reason."""
    import pandas as pd

    numeric, categorical, datecols, dropped = [], [], [], []
    for c in df.columns:
        if c == target:
            continue
        present = df[c].dropna()
        distinct = present.astype(str).nunique()
        if len(present) == 0:
            dropped.append([c, 'empty'])
        elif distinct == 1:
            dropped.append([c, 'constant'])
        elif c in dates:
            datecols.append(c)
        elif pd.api.types.is_bool_dtype(df[c]) or pd.api.types.is_numeric_dtype(df[c]):
            numeric.append(c)
        elif distinct == len(present) or (len(present) >= 20 and distinct >= 0.95 * len(present)):
            dropped.append([c, 'id-like'])
        else:
            categorical.append(c)
    return numeric, categorical, datecols, dropped


def score_dataset(d, forest_seeds, trees):
    import numpy as np
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    df = read_table(d['path'])
    if len(df) != d['rows']:
        raise ValueError(f"{d['id']}: pandas reads {len(df)} rows, mlpipe {d['rows']}")
    for c, fmt in d['dates'].items():
        df[c] = pd.to_datetime(df[c], format=fmt, utc=True).dt.tz_localize(None)
    target = d['target']
    classification = d['task'] == 'classification'
    numeric, categorical, datecols, dropped = plan(df, target, d['dates'])
    DateParts = make_date_parts()

    def preprocessor():
        return ColumnTransformer(
            [
                ('numeric', SimpleImputer(strategy='median', add_indicator=True), numeric),
                (
                    'categories',
                    Pipeline([
                        ('impute', SimpleImputer(strategy='constant', fill_value='<missing>')),
                        ('onehot', OneHotEncoder(min_frequency=2, max_categories=21, handle_unknown='infrequent_if_exist', sparse_output=False)),
                    ]),
                    categorical,
                ),
                ('dates', DateParts(), datecols),
            ],
            remainder='drop',
        )

    splits = []
    for s in d['splits']:
        train, test = df.iloc[s['train']], df.iloc[s['test']]
        y, yt = train[target], test[target]
        if y.isna().any() or yt.isna().any():
            raise ValueError(f"{d['id']} seed {s['seed']}: a split row has no target")
        if len(train) + len(test) != int(df[target].notna().sum()):
            raise ValueError(f"{d['id']} seed {s['seed']}: the split does not cover every row with a target")
        if classification:
            y, yt = y.astype(str), yt.astype(str)
        # Featurizers are fitted on the training rows only, as mlpipe's holdout does.
        prep = preprocessor().fit(train)
        X, Xt = prep.transform(train), prep.transform(test)
        scores = []
        for fs in forest_seeds:
            # mlpipe's defaults (src/core/models/random-forest.ts defaultForestParams, engine hist) are
            # scikit-learn's: sqrt features per split (classification), all (regression), grown fully.
            if classification:
                model = RandomForestClassifier(n_estimators=trees, max_features='sqrt', random_state=fs, n_jobs=-1)
            else:
                model = RandomForestRegressor(n_estimators=trees, max_features=1.0, random_state=fs, n_jobs=-1)
            model.fit(X, y)
            p = model.predict(Xt)
            scores.append(float(accuracy_score(yt, p) if classification else r2_score(yt, p)))
        splits.append({
            'seed': s['seed'],
            'trainRows': len(train),
            'testRows': len(test),
            'features': int(X.shape[1]),
            'scores': scores,
            'mean': float(np.mean(scores)),
            'std': float(np.std(scores, ddof=1)) if len(scores) > 1 else 0.0,
        })
    return {
        'id': d['id'],
        'metric': 'accuracy' if classification else 'r2',
        'plan': {'numeric': numeric, 'categories': categorical, 'dates': datecols, 'dropped': dropped},
        'splits': splits,
    }


def main():
    import numpy
    import pandas
    import sklearn

    with open(sys.argv[1], encoding='utf-8') as f:
        spec = json.load(f)
    results = [score_dataset(d, spec['forestSeeds'], spec['trees']) for d in spec['datasets']]
    print(json.dumps({
        'ok': True,
        'versions': {'python': platform.python_version(), 'sklearn': sklearn.__version__, 'numpy': numpy.__version__, 'pandas': pandas.__version__},
        'datasets': results,
    }))


if __name__ == '__main__':
    try:
        main()
    except Exception as e:  # one JSON line for the driver, the trace on stderr
        traceback.print_exc()
        print(json.dumps({'ok': False, 'error': f'{type(e).__name__}: {e}'}))
        sys.exit(1)
