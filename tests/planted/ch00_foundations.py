"""Planted mistakes for the foundations chapter."""

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
