"""Planted mistakes for the foundations chapter."""


def _variant(source: str, old: str, new: str) -> str:
    """``source`` with ``old`` replaced by ``new`` (which must occur)."""
    assert old in source, old
    return source.replace(old, new)


#: A right training loop; the planted mistakes change one line of it.
_TRAIN_LOOP = '''def train_logistic_regression(X, y, grad_fn, lr, epochs, batch_size, seed):
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    N, D = X.shape
    w, b = np.zeros(D), 0.0
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        perm = rng.permutation(N)
        for i in range(0, N, batch_size):
            idx = perm[i:i + batch_size]
            dw, db = grad_fn(w, b, X[idx], y[idx])
            w, b = w - lr * dw, b - lr * db
        p = sigmoid(X @ w + b)
        losses.append(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    return w, b, losses
'''

MISTAKES = [
    {
        "name": "k-fold with the leftover samples in the last fold",
        "cell": "kfold_indices",
        "source": '''def kfold_indices(n, k, shuffle=False, seed=None):
    if k < 2 or k > n:
        raise ValueError("need 2 <= k <= n")
    if seed is not None and not shuffle:
        raise ValueError("seed needs shuffle=True")
    order = np.random.RandomState(seed).permutation(n) if shuffle else np.arange(n)
    size = n // k
    folds = []
    for i in range(k):
        stop = n if i == k - 1 else (i + 1) * size
        val = np.sort(order[i * size:stop])
        folds.append((np.setdiff1d(np.arange(n), val), val))
    return folds
''',
        "fails": ["test_kfold_indices", "test_kfold_indices_hidden"],
        "feedback": "the first n % k folds get the extra samples",
    },
    {
        "name": "k-fold shuffled with default_rng and no check of a useless seed",
        "cell": "kfold_indices",
        "source": '''def kfold_indices(n, k, shuffle=False, seed=None):
    if k < 2 or k > n:
        raise ValueError("need 2 <= k <= n")
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    folds = []
    for val in np.array_split(order, k):
        val = np.sort(val)
        folds.append((np.setdiff1d(np.arange(n), val), val))
    return folds
''',
        "fails": ["test_kfold_indices", "test_kfold_indices_hidden"],
        "feedback": "not default_rng",
    },
    {
        "name": "standardisation fitted on all the data (the leak)",
        "cell": "standardize",
        "source": '''def standardize(X_train, *others):
    arrays = [np.asarray(X, dtype=float) for X in (X_train, *others)]
    both = np.vstack(arrays)
    mu, sigma = both.mean(axis=0), both.std(axis=0)
    sigma = np.where(sigma == 0, 1.0, sigma)
    return tuple((X - mu) / sigma for X in arrays)
''',
        "fails": ["test_standardize", "test_standardize_hidden"],
        "feedback": "leak the test set into training",
    },
    {
        "name": "standardisation with the sample std (ddof=1)",
        "cell": "standardize",
        "source": '''def standardize(X_train, *others):
    X_train = np.asarray(X_train, dtype=float)
    mu, sigma = X_train.mean(axis=0), X_train.std(axis=0, ddof=1)
    sigma = np.where(sigma == 0, 1.0, sigma)
    return tuple((np.asarray(X, dtype=float) - mu) / sigma for X in (X_train, *others))
''',
        "fails": ["test_standardize", "test_standardize_hidden"],
        "feedback": "not N - 1",
    },
    {
        "name": "least squares by hand without centring",
        "cell": "q_least_squares",
        "source": '''w_hand = 66 / 55
b_hand = 4 - w_hand * 3
E_min = 2.4
''',
        "fails": ["test_q_least_squares"],
        "feedback": "best line through the origin",
    },
    {
        "name": "fit_line with the intercept's sign flipped",
        "cell": "fit_line",
        "source": '''def fit_line(x, y):
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if np.all(x == x[0]):
        raise ValueError("x is constant")
    dx, dy = x - x.mean(), y - y.mean()
    w = np.sum(dx * dy) / np.sum(dx * dx)
    return float(w), float(y.mean() + w * x.mean())
''',
        "fails": ["test_fit_line", "test_fit_line_hidden"],
        "feedback": "with a minus",
    },
    {
        "name": "fit_line by the uncentred textbook formula",
        "cell": "fit_line",
        "source": '''def fit_line(x, y):
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = len(x)
    w = (n * np.sum(x * y) - x.sum() * y.sum()) / (n * np.sum(x * x) - x.sum() ** 2)
    return float(w), float(y.mean() - w * x.mean())
''',
        "fails": ["test_fit_line_hidden"],
        "feedback": "catastrophic cancellation",
    },
    {
        "name": "normal equation without the column of ones (seed 003)",
        "cell": "normal_equation",
        "source": '''def normal_equation(X, y):
    X = np.asarray(X, dtype=float)
    theta, *_ = np.linalg.lstsq(X, np.asarray(y, dtype=float), rcond=None)
    return theta
''',
        "fails": ["test_normal_equation", "test_normal_equation_hidden"],
        "feedback": "no column of ones",
    },
    {
        "name": "normal equation with an explicit inverse (seed 003)",
        "cell": "normal_equation",
        "source": '''def normal_equation(X, y):
    X = np.asarray(X, dtype=float)
    A = np.hstack([X, np.ones((X.shape[0], 1))])
    return np.linalg.inv(A.T @ A) @ A.T @ np.asarray(y, dtype=float)
''',
        "fails": ["test_normal_equation_hidden"],
        "feedback": "use np.linalg.lstsq",
    },
    {
        "name": "logistic gradient summed instead of averaged",
        "cell": "logistic_regression_grad",
        "source": '''def logistic_regression_grad(w, b, X, y):
    X = np.asarray(X, dtype=float)
    dz = sigmoid(X @ np.asarray(w, dtype=float) + b) - np.asarray(y, dtype=float)
    return X.T @ dz, float(np.sum(dz))
''',
        "fails": ["test_logistic_regression_grad", "test_logistic_regression_grad_hidden"],
        "feedback": "divide by N",
    },
    {
        "name": "logistic gradient with the squared error's p(1 - p) factor",
        "cell": "logistic_regression_grad",
        "source": '''def logistic_regression_grad(w, b, X, y):
    X = np.asarray(X, dtype=float)
    p = sigmoid(X @ np.asarray(w, dtype=float) + b)
    dz = (p - np.asarray(y, dtype=float)) * p * (1 - p) / len(X)
    return X.T @ dz, float(np.sum(dz))
''',
        "fails": ["test_logistic_regression_grad", "test_logistic_regression_grad_hidden"],
        "feedback": "the factor p(1 - p) cancels",
    },
    {
        "name": "softmax gradient without subtracting the one-hot labels",
        "cell": "softmax_regression_grad",
        "source": '''def softmax_regression_grad(W, b, X, y):
    X = np.asarray(X, dtype=float)
    dZ = softmax(X @ np.asarray(W, dtype=float) + np.asarray(b, dtype=float)) / X.shape[0]
    return X.T @ dZ, dZ.sum(axis=0)
''',
        "fails": ["test_softmax_regression_grad", "test_softmax_regression_grad_hidden"],
        "feedback": "subtract the one-hot labels",
    },
    {
        "name": "training loop that drops the last, smaller batch",
        "cell": "train_logistic_regression",
        "source": _variant(_TRAIN_LOOP, "range(0, N, batch_size)",
                           "range(0, N - batch_size + 1, batch_size)"),
        "fails": ["test_train_logistic_regression", "test_train_logistic_regression_hidden"],
        "feedback": "the last, smaller batch was dropped",
    },
    {
        "name": "training loop that creates the generator again every epoch",
        "cell": "train_logistic_regression",
        "source": _variant(_TRAIN_LOOP, "perm = rng.permutation(N)",
                           "perm = np.random.default_rng(seed).permutation(N)"),
        "fails": ["test_train_logistic_regression", "test_train_logistic_regression_hidden"],
        "feedback": "every epoch visited the rows in the same order",
    },
    {
        "name": "training loop that reports the last batch's loss",
        "cell": "train_logistic_regression",
        "source": _variant(_variant(_TRAIN_LOOP, "sigmoid(X @ w + b)", "sigmoid(X[idx] @ w + b)"),
                           "-np.mean(y * np.log(p) + (1 - y) *",
                           "-np.mean(y[idx] * np.log(p) + (1 - y[idx]) *"),
        "fails": ["test_train_logistic_regression", "test_train_logistic_regression_hidden"],
        "feedback": "the loss on the whole training set, not on the last batch",
    },
    {
        "name": "k-fold selection with the scaler fitted on all the data (the leak)",
        "cell": "kfold_select",
        "source": '''def kfold_select(X, y, lambdas, folds):
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    sd = X.std(axis=0)
    X = (X - X.mean(axis=0)) / np.where(sd == 0, 1.0, sd)
    scores = []
    for lam in lambdas:
        mses = []
        for tr, va in folds:
            Xc, yc = X[tr] - X[tr].mean(axis=0), y[tr] - y[tr].mean()
            w = np.linalg.lstsq(Xc.T @ Xc + len(tr) * lam * np.eye(X.shape[1]), Xc.T @ yc,
                                rcond=None)[0]
            b = y[tr].mean() - X[tr].mean(axis=0) @ w
            mses.append(np.mean((X[va] @ w + b - y[va]) ** 2))
        scores.append(np.mean(mses))
    scores = np.array(scores)
    return float(max(l for l, s in zip(lambdas, scores) if s == scores.min())), scores
''',
        "fails": ["test_kfold_select", "test_kfold_select_hidden"],
        "feedback": "fit the mean and std on each fold",
    },
    {
        "name": "k-fold selection whose ties go to the smallest lambda",
        "cell": "kfold_select",
        "source": '''def kfold_select(X, y, lambdas, folds):
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    scores = np.zeros(len(lambdas))
    for tr, va in folds:
        mu, sd = X[tr].mean(axis=0), X[tr].std(axis=0)
        sd = np.where(sd == 0, 1.0, sd)
        A, V = (X[tr] - mu) / sd, (X[va] - mu) / sd
        for j, lam in enumerate(lambdas):
            w = np.linalg.lstsq(A.T @ A + len(tr) * lam * np.eye(A.shape[1]),
                                A.T @ (y[tr] - y[tr].mean()), rcond=None)[0]
            scores[j] += np.mean((V @ w + y[tr].mean() - y[va]) ** 2) / len(folds)
    order = np.argsort(lambdas)
    best = order[np.argmin(scores[order])]
    return float(lambdas[best]), scores
''',
        "fails": ["test_kfold_select", "test_kfold_select_hidden"],
        "feedback": "ties go to the LARGEST lambda",
    },
    {
        "name": "k-fold selection pooling the squared errors of all folds",
        "cell": "kfold_select",
        "source": '''def kfold_select(X, y, lambdas, folds):
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    scores = []
    for lam in lambdas:
        errors = []
        for tr, va in folds:
            mu, sd = X[tr].mean(axis=0), X[tr].std(axis=0)
            sd = np.where(sd == 0, 1.0, sd)
            A, V = (X[tr] - mu) / sd, (X[va] - mu) / sd
            w = np.linalg.lstsq(A.T @ A + len(tr) * lam * np.eye(A.shape[1]),
                                A.T @ (y[tr] - y[tr].mean()), rcond=None)[0]
            errors.extend((V @ w + y[tr].mean() - y[va]) ** 2)
        scores.append(np.mean(errors))
    scores = np.array(scores)
    best = max(l for l, s in zip(lambdas, scores) if s <= scores.min() * (1 + 1e-12))
    return float(best), scores
''',
        "fails": ["test_kfold_select", "test_kfold_select_hidden"],
        "feedback": "do not pool the squared errors",
    },
    {
        "name": "softmax gradient with a softmax shifted by the batch\'s global maximum",
        "cell": "softmax_regression_grad",
        "source": '''def softmax_regression_grad(W, b, X, y):
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    Z = X @ np.asarray(W, dtype=float) + np.asarray(b, dtype=float)
    E = np.exp(Z - Z.max())
    dZ = E / E.sum(axis=1, keepdims=True)
    dZ[np.arange(len(y)), y] -= 1.0
    dZ /= len(y)
    return X.T @ dZ, dZ.sum(axis=0)
''',
        "fails": ["test_softmax_regression_grad", "test_softmax_regression_grad_hidden"],
        "feedback": "not the largest logit of the whole batch",
    },
    {
        "name": "softmax gradient delegated to the reference library",
        "cell": "softmax_regression_grad",
        "source": '''def softmax_regression_grad(W, b, X, y):
    from dlnotes import linear
    return linear.softmax_regression_grad(W, b, X, y)
''',
        "fails": ["test_softmax_regression_grad", "test_softmax_regression_grad_hidden"],
        "feedback": "graded answers may not use dlnotes",
        "status": "flagged",
    },
]
