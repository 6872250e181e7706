# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (dlnotes)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 0 — Foundations: data, linear models and fitting
#
# **Supervised learning** (监督学习) is fitting a function. We are given examples
# $(x_i, y_i)$, an input and the answer we want for it, and we look for a function
# $f_\theta$ with parameters $\theta$ such that $f_\theta(x_i) \approx y_i$, measured by a
# **loss** (损失函数). Learning is then an optimisation problem: choose $\theta$ to
# minimise the loss on the training data. What we actually care about is the loss on
# *new* data. That gap between the two is the reason for validation sets,
# cross-validation and most of the care this chapter takes with data.
#
# Every deep network in this book ends in one of the linear models of this chapter: a
# linear layer followed by nothing (regression), a sigmoid (two classes) or a softmax
# (many classes).
#
# **What this chapter covers**
# 1. Supervised learning as fitting a function; regression (回归) and classification
#    (分类).
# 2. Data: training, validation and test sets (训练集 / 验证集 / 测试集), the 8/1/1
#    split, stratification (分层抽样), k-fold cross-validation (k 折交叉验证).
# 3. Standardisation (标准化) and normalisation (归一化), and why their statistics come
#    from the training split only: the leak, shown.
# 4. Linear regression (线性回归) by least squares (最小二乘法): the closed form for a
#    line, the loss surface and gradient descent (梯度下降), the normal equation
#    (正规方程).
# 5. Logistic regression (逻辑回归): sigmoid + binary cross-entropy and its gradient, and
#    your own mini-batch training loop.
# 6. Softmax regression (softmax 回归) for many classes.
# 7. Underfitting (欠拟合) and overfitting (过拟合) on a polynomial fit, with a widget.
# 8. Ridge regression (岭回归) and choosing its penalty by k-fold cross-validation, with
#    the preprocessing fitted inside each fold.
#
# **How to check your answers.** Each exercise is a function with a stub that raises
# `NotImplementedError`. Replace the stub with your code, run the cell, then run the
# test cell below it: it passes silently or tells you what is wrong. The grader also
# runs hidden tests (random inputs, logits of ±800, duplicated columns, sizes that do
# not divide evenly) on each exercise. In JupyterLab, the **Validate** button of the
# nbgrader toolbar runs every test of the notebook at once.
#
# Exercises may use `numpy` only: an answer that calls `dlnotes`, scikit-learn or torch
# scores zero for that exercise. Shapes follow one convention throughout: `X` has shape
# `(N, D)`, one sample per row and one feature per column.

# %%
import numpy as np

from dlnotes.checks import answer, check_close, check_equal

# %% [markdown]
# ## 1. Supervised learning as fitting a function
#
# * In **regression** the target is a number (a price, a temperature): $y \in \mathbb R$.
#   The usual loss is the squared error $(f_\theta(x) - y)^2$.
# * In **classification** the target is one of $C$ classes. The model outputs class
#   probabilities and the loss is the cross-entropy (交叉熵) of the right class.
#
# The simplest family of functions is the **linear model** (线性模型)
# $f(x) = w^\top x + b$, with weights (权重) $w$ and a bias (偏置) $b$. For $N$ samples at
# once, with the samples in the rows of $X$: $\hat y = Xw + b$.
#
# The bias shifts the output, so it sets how much input is needed before the output
# becomes positive. The classic example shows this with $y = x_1 + x_2 - 1$ on inputs 0/1.
#
# > **Pitfall.** A common truth table lists $y = 0$ for $x_1 = x_2 = 0$. The formula
# > gives $0 + 0 - 1 = -1$. The output is 0 only after a threshold or a ReLU,
# > $\max(0, y)$. The table also leaves out the row $x_1 = 0, x_2 = 1$. Compute each row
# > from the formula instead of copying the pattern.
#
# Notation. In this book $y$ is the **target** (the true value) and $\hat y$ ("y hat") the
# model's **prediction**, as in most textbooks and in torch's documentation.
#
# > **Pitfall.** Some notes use the hats the other way round: their
# > $\hat y_i$ is the measured value and $y$ the computed one. The formulas are still
# > right, but mixing the two conventions is how sign errors creep into gradients.
# > Whatever the letters, a residual (残差) is *target minus prediction*.

# %% [markdown]
# ## 2. Training, validation and test sets
#
# A model is judged on data it has not been fitted to. The data is divided three ways:
#
# | split | used for | typical share |
# |---|---|---|
# | training set (训练集) | fitting the parameters $w, b$ | 80 % |
# | validation set (验证集) | choosing hyper-parameters (超参数): degree, step size, ... | 10 % |
# | test set (测试集) | one final, honest estimate, looked at **once** | 10 % |
#
# The split is random (with a fixed seed, so it can be reproduced). With classes of very
# different sizes, a purely random 10 % can hold noticeably more or fewer examples of a
# rare class than the data as a whole. **Stratification** (分层抽样) splits each class
# separately so that every split keeps the class proportions. The demo splits the
# breast-cancer data (37 % malignant) 8/1/1 twenty times with `dlnotes.data` and shows
# how far the share of malignant tumours in the validation set wanders without
# stratification. Demo cells use the reference library `dlnotes`; they are not graded
# and are skipped when your notebook is graded.

# %% tags=["demo"]
import matplotlib.pyplot as plt

from dlnotes import data as ref_data
from dlnotes import linear as ref

X_bc, y_bc = ref_data.load_breast_cancer()
print(f"breast cancer: {X_bc.shape[0]} samples, {X_bc.shape[1]} features, "
      f"{np.mean(y_bc == 0):.3f} malignant")
shares = {False: [], True: []}
for stratify in (False, True):
    for seed in range(20):
        *_, y_tr, y_va, y_te = ref_data.train_val_test_split(
            X_bc, y_bc, val_size=0.1, test_size=0.1, stratify=stratify, seed=seed)
        shares[stratify].append(np.mean(y_va == 0))
    print(f"stratify={stratify!s:5}: sizes {len(y_tr)}/{len(y_va)}/{len(y_te)}, "
          f"malignant share in the validation set from {min(shares[stratify]):.3f} "
          f"to {max(shares[stratify]):.3f}")
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(shares[False], "o", label="random split")
ax.plot(shares[True], "s", label="stratified split")
ax.axhline(np.mean(y_bc == 0), color="k", lw=0.8, label="whole data set")
ax.set(xlabel="seed", ylabel="malignant share (validation)",
       title="Class balance of a 10 % validation set")
ax.legend()
plt.show()

# %% [markdown]
# ### k-fold cross-validation
#
# With little data, a single 10 % validation set is a noisy judge. **k-fold
# cross-validation** (k 折交叉验证) cuts the (training) data into $k$ folds (折) of
# nearly equal size. Round $i$ trains on the other $k-1$ folds and validates on fold $i$;
# the $k$ validation scores are averaged. Every sample is validated exactly once.
#
# The rule for the sizes, the same as scikit-learn's `KFold`: with $n$ samples, the first
# $n \bmod k$ folds get $\lfloor n/k \rfloor + 1$ samples and the others
# $\lfloor n/k \rfloor$. For $n = 10$, $k = 3$: folds of 4, 3 and 3 samples,
# $\{0,1,2,3\}, \{4,5,6\}, \{7,8,9\}$.
#
# To shuffle first (`shuffle=True`), the order of the samples is
# `np.random.RandomState(seed).permutation(n)`, and the folds are consecutive pieces of
# that order. This is exactly the permutation `KFold(k, shuffle=True, random_state=seed)`
# draws, so your folds can be checked against it.
#
# > **Pitfall.** Some notes write `KFold(n_splits=5, random_state=42)`.
# > In current scikit-learn this **raises** `ValueError`: a seed without `shuffle=True`
# > would have no effect, and older versions ignored it silently. Write
# > `KFold(n_splits=5, shuffle=True, random_state=42)`, or leave the seed out.
# >
# > The same note's loop has a quieter bug. It calls `model = pipeline.fit(X_train,
# > y_train)` and appends `model` to a list in every fold. `fit` returns the **same
# > object** it was called on, refitted in place. After the loop the list holds five
# > references to one model, the one fitted on the last fold, and the "ensemble of five
# > fold models" is that one model five times. Fit a fresh copy per fold:
# > `sklearn.base.clone(pipeline).fit(...)`. The demo shows both problems.

# %% tags=["demo"]
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

try:
    KFold(n_splits=5, random_state=42)
except ValueError as e:
    print("KFold(n_splits=5, random_state=42) raises ValueError:", e)

pipeline = Pipeline([("scaler", StandardScaler()),
                     ("classifier", LogisticRegression(max_iter=1000))])
kfold = KFold(n_splits=5, shuffle=True, random_state=42)
models_seed, models_fixed = [], []
for train_index, _val_index in kfold.split(X_bc):
    models_seed.append(pipeline.fit(X_bc[train_index], y_bc[train_index]))  # the note's loop
    models_fixed.append(clone(pipeline).fit(X_bc[train_index], y_bc[train_index]))
print("note's loop: distinct model objects in the list =", len({id(m) for m in models_seed}))
print("with clone(): distinct model objects in the list =", len({id(m) for m in models_fixed}))
print("first weight of each fold's model (note's loop):",
      np.round([m[-1].coef_[0, 0] for m in models_seed], 4))
print("first weight of each fold's model (clone):     ",
      np.round([m[-1].coef_[0, 0] for m in models_fixed], 4))

# %% [markdown]
# ### Exercise 2.1 — `kfold_indices`
# Write `kfold_indices(n, k, shuffle=False, seed=None)`. Return a **list of $k$ pairs**
# `(train_idx, val_idx)` of integer arrays, fold by fold, both arrays **sorted** (as
# `KFold.split` returns them). `dlnotes.data.kfold_indices` yields the same pairs one at a
# time; a list is iterated the same way. Rules:
# * the first `n % k` folds have one sample more than the others;
# * with `shuffle=True` the order is `np.random.RandomState(seed).permutation(n)`;
# * raise `ValueError` if `k < 2` or `k > n`, and if a `seed` is given with
#   `shuffle=False` (as `KFold` does).
#
# *Hints:* `np.array_split`, `np.sort`, `np.setdiff1d`.

# %% nbgrader={"grade_id": "kfold_indices", "solution": true}
def kfold_indices(n, k, shuffle=False, seed=None):
    """List of k (train_idx, val_idx) pairs of sorted index arrays, as sklearn's KFold."""
    ### BEGIN SOLUTION
    if k < 2 or k > n:
        raise ValueError(f"need 2 <= k <= n, got k={k}, n={n}")
    if seed is not None and not shuffle:
        raise ValueError("seed has no effect when shuffle=False")
    order = np.random.RandomState(seed).permutation(n) if shuffle else np.arange(n)
    folds = []
    for val in np.array_split(order, k):
        val = np.sort(val)
        folds.append((np.setdiff1d(np.arange(n), val), val))
    return folds
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_kfold_indices", "grade": true, "points": 1}
def _kfold_list(*args, **kwargs):
    """kfold_indices(*args) as a list of (train, val) integer arrays."""
    folds = answer(kfold_indices, *args, **kwargs)
    return answer(lambda: [(np.asarray(tr), np.asarray(va)) for tr, va in folds],
                  name="kfold_indices")


_folds = _kfold_list(10, 3)
check_equal(len(_folds), 3, "number of folds of kfold_indices(10, 3)")
check_equal([len(_va) for _tr, _va in _folds], [4, 3, 3],
            "validation fold sizes of kfold_indices(10, 3)",
            mistakes={"the first n % k folds get the extra samples, not the last fold": [3, 3, 4],
                      "the n % k leftover samples must go somewhere: the first n % k folds "
                      "get one more": [3, 3, 3]})
check_equal(_folds[1][1], [4, 5, 6], "validation indices of fold 1 of kfold_indices(10, 3)")
check_equal(_folds[1][0], [0, 1, 2, 3, 7, 8, 9],
            "training indices of fold 1 of kfold_indices(10, 3)",
            mistakes={"the training set must leave out the validation fold": np.arange(10)})
# With shuffling, the order is np.random.RandomState(seed).permutation(n).
_perm = np.random.RandomState(0).permutation(10)
_folds = _kfold_list(10, 3, shuffle=True, seed=0)
check_equal(_folds[0][1], np.sort(_perm[:4]), "validation indices of fold 0, shuffle=True, seed=0",
            mistakes={"sort the indices of each fold (KFold returns them sorted)": _perm[:4],
                      "the order must be np.random.RandomState(seed).permutation(n), not "
                      "default_rng": np.sort(np.random.default_rng(0).permutation(10)[:4])})

# %% nbgrader={"grade_id": "test_kfold_indices_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import data as _ref_data


def _kfold_checked(n, k, shuffle=False, seed=None):
    """Run the student's folds and compare them with the reference."""
    folds = answer(kfold_indices, n, k, shuffle, seed)
    got = answer(lambda: [(np.asarray(tr), np.asarray(va)) for tr, va in folds],
                 name="kfold_indices, iterating its result,")
    expected = list(_ref_data.kfold_indices(n, k, shuffle, seed))
    call = f"kfold_indices({n}, {k}, shuffle={shuffle}, seed={seed})"
    check_equal(len(got), k, f"number of folds of {call}")
    size = n // k
    check_equal([len(va) for tr, va in got], [len(va) for tr, va in expected],
                f"validation fold sizes of {call}",
                mistakes={"the first n % k folds get the extra samples, not the last fold":
                              [size] * (k - 1) + [n - size * (k - 1)],
                          "the n % k leftover samples were dropped; the first n % k folds "
                          "get one sample more": [size] * k})
    order = (np.random.RandomState(seed).permutation(n) if shuffle else np.arange(n))
    other = np.random.default_rng(seed).permutation(n) if shuffle else order
    start = 0
    for i, ((tr, va), (etr, eva)) in enumerate(zip(got, expected, strict=True)):
        piece = order[start:start + len(eva)]
        start += len(eva)
        check_equal(va, eva, f"validation indices of fold {i} of {call}",
                    mistakes={"sort the indices of each fold (KFold returns them sorted)": piece,
                              "the order must be np.random.RandomState(seed).permutation(n), "
                              "not default_rng": np.sort(other[start - len(eva):start])})
        check_equal(tr, etr, f"training indices of fold {i} of {call}",
                    mistakes={"the training set must leave out the validation fold":
                                  np.arange(n)})


_rng = np.random.default_rng(1)
for _n, _k in ((12, 4), (13, 5), (7, 7), (23, 6)):
    _kfold_checked(_n, _k)
    _kfold_checked(_n, _k, shuffle=True, seed=int(_rng.integers(1000)))
for _args, _why in (((10, 3, False, 0), "a seed with shuffle=False (KFold raises here)"),
                    ((3, 5, False, None), "k > n"), ((10, 1, False, None), "k < 2")):
    try:
        list(kfold_indices(*_args))
    except ValueError:
        pass
    except Exception as _e:
        raise AssertionError(f"kfold_indices{_args} raised {type(_e).__name__}: {_e}; "
                             f"expected ValueError for {_why}") from None
    else:
        raise AssertionError(f"kfold_indices{_args} should raise ValueError: {_why}")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Standardisation and normalisation
#
# Features come in different units: a tumour's area is in the hundreds, its smoothness
# around 0.1. Gradient descent then takes tiny steps in some directions and huge ones in
# others (section 4 shows the loss surface). Two common rescalings:
#
# * **standardisation** (标准化, z-score): $\tilde x_{ij} = (x_{ij} - \mu_j)/\sigma_j$, so
#   each feature has mean 0 and standard deviation 1;
# * **normalisation** (归一化, min-max): $\tilde x_{ij} = (x_{ij} - \min_j)/(\max_j -
#   \min_j)$, so each feature lies in $[0, 1]$. One outlier squeezes all other values
#   into a corner.
#
# The statistics $\mu_j$ and $\sigma_j$ are **parameters of the preprocessing**, so they are
# fitted like any other parameter: on the **training split only**. The validation and
# test sets are transformed with the training statistics, unchanged:
#
# $$\mu_j = \frac{1}{N}\sum_{i} X^{\text{train}}_{ij}, \qquad
#   \sigma_j = \sqrt{\frac{1}{N}\sum_{i} \bigl(X^{\text{train}}_{ij} - \mu_j\bigr)^2},
#   \qquad \tilde X_{ij} = \frac{X_{ij} - \mu_j}{\sigma_j}\ \text{ for every split.}$$
#
# $\sigma$ is the population standard deviation (divide by $N$, `ddof=0`), as in
# scikit-learn's `StandardScaler`. A constant column has $\sigma_j = 0$; it is only
# centred (divided by 1).
#
# **The leak.** Computing $\mu, \sigma$ on all the data lets the test set shape the
# training features. The model "fitted on the training set" has then already seen the test
# set, and its test score is no longer a fair estimate of how it does on new data. The
# demo makes the leak visible. The training data stays the same, and only one test sample
# changes (an extreme reading, as a faulty sensor would give). With statistics fitted
# on all the data, the standardised training features change, and so do the model's
# weights. With training-only statistics, nothing about the trained model depends on the
# test set.

# %% tags=["demo"]
X_tr, X_va, X_te, y_tr, y_va, y_te = ref_data.train_val_test_split(
    X_bc, y_bc, val_size=0.1, test_size=0.1, stratify=True, seed=0)
X_te_bad = X_te.copy()
X_te_bad[0] *= 50.0  # one corrupted test sample


def fitted_weights(X_train, y_train, steps=300, lr=0.5):
    """Logistic regression by plain gradient descent (reference gradient)."""
    w, b = np.zeros(X_train.shape[1]), 0.0
    for _ in range(steps):
        dw, db = ref.logistic_regression_grad(w, b, X_train, y_train)
        w, b = w - lr * dw, b - lr * db
    return w


def leaky_standardize(X_train, X_test):
    """The mistake: statistics of train + test together."""
    both = np.vstack([X_train, X_test])
    mu, sd = both.mean(axis=0), both.std(axis=0)
    return (X_train - mu) / sd, (X_test - mu) / sd


w_leak_clean = fitted_weights(leaky_standardize(X_tr, X_te)[0], y_tr)
w_leak_bad = fitted_weights(leaky_standardize(X_tr, X_te_bad)[0], y_tr)
w_ok_clean = fitted_weights(ref_data.standardize(X_tr, X_te)[0], y_tr)
w_ok_bad = fitted_weights(ref_data.standardize(X_tr, X_te_bad)[0], y_tr)
print("change of the trained weights when ONE test sample changes:")
print(f"  statistics from all data (leak): {np.abs(w_leak_bad - w_leak_clean).max():.3f}")
print(f"  statistics from training only  : {np.abs(w_ok_bad - w_ok_clean).max():.3f}")

fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
j = 3  # "mean area": values in the hundreds and thousands
axes[0].hist(X_tr[:, j], bins=30)
axes[0].set(title=f"raw feature {j} (mean area)", xlabel="value")
axes[1].hist(ref_data.standardize(X_tr)[0][:, j], bins=30, alpha=0.7, label="standardised")
mm = (X_tr[:, j] - X_tr[:, j].min()) / np.ptp(X_tr[:, j])
axes[1].hist(mm, bins=30, alpha=0.7, label="min-max normalised")
axes[1].set(title="two rescalings of the training data", xlabel="value")
axes[1].legend()
axes[2].bar(np.arange(30) - 0.2, w_leak_bad - w_leak_clean, width=0.4, label="fit on all data")
axes[2].bar(np.arange(30) + 0.2, w_ok_bad - w_ok_clean, width=0.4, label="fit on train only")
axes[2].set(title="weight change after one TEST sample changed\n(train-only statistics: exactly 0)",
            xlabel="feature")
axes[2].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ### Exercise 3.1 — `standardize`
# Write `standardize(X_train, *others)`. Compute $\mu$ and $\sigma$ (population,
# `ddof=0`) per column of `X_train` only, and return a **tuple** with `X_train` and every
# array of `others` standardised with them. A constant column ($\sigma_j = 0$) is only
# centred. `standardize(X_tr, X_va, X_te)` returns three arrays; `standardize(X_tr)`
# returns a tuple of one.

# %% nbgrader={"grade_id": "standardize", "solution": true}
def standardize(X_train, *others):
    """Standardise X_train and others with the mean and std of X_train only."""
    ### BEGIN SOLUTION
    X_train = np.asarray(X_train, dtype=float)
    mu = X_train.mean(axis=0)
    sigma = X_train.std(axis=0)
    sigma = np.where(sigma == 0, 1.0, sigma)
    return tuple((np.asarray(X, dtype=float) - mu) / sigma for X in (X_train, *others))
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_standardize", "grade": true, "points": 1}
_X_tr = np.array([[1.0, 5.0], [3.0, 5.0]])
_X_te = np.array([[2.0, 6.0]])
_out = answer(standardize, _X_tr, _X_te)
check_equal(len(_out), 2, "number of arrays returned by standardize(X_tr, X_te)")
check_close(_out[0], [[-1.0, 0.0], [1.0, 0.0]], "standardize: the training part",
            mistakes={"divide by the population std (ddof=0, as StandardScaler), not N - 1":
                          [[-np.sqrt(0.5), 0.0], [np.sqrt(0.5), 0.0]],
                      "statistics computed on all the data leak the test set into training":
                          [[-np.sqrt(1.5), -np.sqrt(0.5)], [np.sqrt(1.5), -np.sqrt(0.5)]]})
check_close(_out[1], [[0.0, 1.0]], "standardize: the test part (training statistics!)",
            mistakes={"statistics computed on all the data leak the test set into training":
                          [[0.0, np.sqrt(2.0)]],
                      "the test set must use the training set's mean and std, not its own":
                          [[0.0, 0.0]]})

# %% nbgrader={"grade_id": "test_standardize_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import data as _ref_data

_rng = np.random.default_rng(3)
for _n_tr, _D in ((40, 3), (7, 5), (1, 2)):
    _Xs = [_rng.normal(loc=_rng.normal(scale=50, size=_D), scale=_rng.uniform(0.1, 20, _D),
                       size=(_m, _D)) for _m in (_n_tr, 6, 5)]
    _Xs[1] += 3.0  # validation and test drawn from a shifted distribution
    with np.errstate(all="ignore"):
        _got = answer(standardize, *_Xs)
    _exp = _ref_data.standardize(*_Xs)
    check_equal(len(_got), 3, "number of arrays returned by standardize(X_tr, X_va, X_te)")
    _all = np.vstack(_Xs)
    _leak = _ref_data.standardize(_all, *_Xs)[1:]
    _own = [_ref_data.standardize(_X)[0] for _X in _Xs]
    _ddof1 = [(_X - _Xs[0].mean(0)) / (_Xs[0].std(0, ddof=1) if _n_tr > 1 else 1.0)
              for _X in _Xs]
    for _i, _name in enumerate(("training", "validation", "test")):
        check_close(_got[_i], _exp[_i], f"standardize: the {_name} part ({_n_tr} training rows, "
                                        f"{_D} features)", atol=1e-8,
                    mistakes={"statistics computed on all the data leak the test set into "
                              "training": _leak[_i],
                              "each array standardised with its own statistics; the other "
                              "splits must use the training set's mean and std": _own[_i],
                              "divide by the population std (ddof=0, as StandardScaler), "
                              "not N - 1": _ddof1[_i]})
# A constant column is only centred; a single array gives a tuple of one.
_X = np.column_stack([_rng.normal(size=6), np.full(6, 3.0)])
with np.errstate(all="ignore"):
    _got = answer(standardize, _X)
check_equal(len(_got), 1, "number of arrays returned by standardize(X_tr) (a tuple of one)")
check_close(_got[0], _ref_data.standardize(_X)[0],
            "standardize with a constant column (sigma = 0: centre it, divide by 1)")
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Linear regression by least squares
#
# ### A line through points
#
# Fit $\hat y = w x + b$ to points $(x_i, y_i)$ by minimising the **sum of squared
# errors** (误差平方和)
#
# $$E(w, b) = \sum_{i=1}^{N} \bigl(y_i - w x_i - b\bigr)^2 .$$
#
# $E$ is a convex bowl in $(w, b)$, so its minimum is where both partial derivatives
# vanish:
#
# $$\frac{\partial E}{\partial w} = -2\sum_i x_i\,(y_i - w x_i - b) = 0, \qquad
#   \frac{\partial E}{\partial b} = -2\sum_i (y_i - w x_i - b) = 0 .$$
#
# The second equation gives $b = \bar y - w\bar x$ (the line passes through the centre of
# mass $(\bar x, \bar y)$). Substituting it into the first:
#
# $$w = \frac{\sum_i (x_i - \bar x)(y_i - \bar y)}{\sum_i (x_i - \bar x)^2}, \qquad
#   b = \bar y - w\,\bar x .$$
#
# The slope is undefined when all $x_i$ are equal (a vertical cloud: the denominator is
# 0).
#
# > **Pitfall: "logistic regression" is not least squares.** Some notes title this section
# > 最小二乘法拟合直线（逻辑回归）, "fitting a line by least squares (logistic
# > regression)". Fitting a line by least squares is **linear regression** (线性回归).
# > **Logistic regression** (逻辑回归) is a *classifier*. It passes $w^\top x + b$ through
# > the sigmoid to get a probability in $(0, 1)$ and is fitted by minimising the
# > cross-entropy (section 5), and it has no closed form. The name is historical: it
# > *regresses* the log-odds (对数几率) $\log\frac{p}{1-p}$ linearly on $x$, and
# > "logistic" is the name of the sigmoid curve. Despite the word "regression", its output
# > is a class probability.
#
# **Numerical care.** A popular form of the same slope is
# $w = \frac{N\sum x_iy_i - \sum x_i\sum y_i}{N\sum x_i^2 - (\sum x_i)^2}$. Algebraically it
# is equal, but numerically it subtracts two huge, nearly equal numbers when the $x_i$
# are large (say timestamps around $10^8$): catastrophic cancellation (灾难性抵消). Centre
# first, as in the formula above.

# %% [markdown]
# ### Question 4.1 — least squares by hand
# The derivation gives the closed form but no numbers. Do it by hand (or with a
# few lines of numpy arithmetic) for the five points
#
# | $x$ | 1 | 2 | 3 | 4 | 5 |
# |---|---|---|---|---|---|
# | $y$ | 2 | 4 | 5 | 4 | 5 |
#
# Give the slope `w_hand`, the intercept `b_hand` and the minimum of the loss,
# `E_min` $= E(w, b)$ at the fitted line (the sum of the squared residuals).

# %% nbgrader={"grade_id": "q_least_squares", "solution": true}
w_hand = None
b_hand = None
E_min = None
### BEGIN SOLUTION
w_hand = 6 / 10          # sum (x - 3)(y - 4) / sum (x - 3)^2
b_hand = 4 - w_hand * 3  # = 2.2
E_min = 0.8**2 + 0.6**2 + 1.0**2 + 0.6**2 + 0.2**2  # residuals -0.8, 0.6, 1, -0.6, -0.2
### END SOLUTION

# %% nbgrader={"grade_id": "test_q_least_squares", "grade": true, "points": 2}
assert w_hand is not None and b_hand is not None and E_min is not None, \
    "set w_hand, b_hand and E_min to numbers"
### BEGIN HIDDEN TESTS
check_close(w_hand, 0.6, "the slope w of the five points", atol=1e-6,
            mistakes={"without centring, sum(x*y)/sum(x*x) is the best line through the "
                      "origin (no intercept)": 66 / 55,
                      "that is sum (x - x̄)(y - ȳ) / sum (y - ȳ)^2: x and y swapped": 1.0})
check_close(b_hand, 2.2, "the intercept b of the five points", atol=1e-6,
            mistakes={"b = ȳ - w x̄, with a minus": 5.8})
check_close(E_min, 2.4, "the minimum of E(w, b)", atol=1e-6,
            mistakes={"that is the mean of the squared residuals; E is their sum": 0.48})
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 4.2 — `fit_line`
# Return `(w, b)` as two floats for 1-D arrays `x` and `y`, with the centred formula
# above. Raise `ValueError` if `x` is constant (or has fewer than two points, or the
# lengths differ).

# %% nbgrader={"grade_id": "fit_line", "solution": true}
def fit_line(x, y):
    """Least-squares slope and intercept (w, b) of y ~ w * x + b."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 2:
        raise ValueError("x and y must be 1-D arrays of the same length >= 2")
    if np.all(x == x[0]):
        raise ValueError("x is constant: the slope is undetermined")
    dx = x - x.mean()
    dy = y - y.mean()
    w = np.sum(dx * dy) / np.sum(dx * dx)
    return float(w), float(y.mean() - w * x.mean())
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_fit_line", "grade": true, "points": 1}
check_close(answer(fit_line, [0.0, 1.0, 2.0], [1.0, 3.0, 5.0]), (2.0, 1.0),
            "fit_line on (0, 1), (1, 3), (2, 5)",
            mistakes={"b = ȳ - w x̄, with a minus": (2.0, 5.0)})
check_close(answer(fit_line, [2.0, 4.0, 6.0, 8.0], [3.0, 7.0, 5.0, 9.0]), (0.8, 2.0),
            "fit_line on (2, 3), (4, 7), (6, 5), (8, 9)",
            mistakes={"without centring, sum(x*y)/sum(x*x) is the best line through "
                      "the origin": (136 / 120, 6.0 - 136 / 120 * 5.0),
                      "b = ȳ - w x̄, with a minus": (0.8, 10.0)})

# %% nbgrader={"grade_id": "test_fit_line_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import linear as _ref

_rng = np.random.default_rng(4)
for _n, _loc, _rtol in ((2, 0.0, 1e-7), (15, 0.0, 1e-7), (40, -3.0, 1e-7), (10, 1e8, 1e-6)):
    _x = _loc + _rng.normal(scale=2, size=_n)
    _y = 0.7 * (_x - _loc) - 2.0 + _rng.normal(scale=0.3, size=_n)
    _w, _b = _ref.fit_line(_x, _y)
    _xm, _ym = _x.mean(), _y.mean()
    _w0 = np.sum(_x * _y) / np.sum(_x * _x)
    _ws = np.sum((_x - _xm) * (_y - _ym)) / np.sum((_y - _ym) ** 2)
    with np.errstate(all="ignore"):
        _got = answer(fit_line, _x, _y)
        _wt = (_n * np.sum(_x * _y) - _x.sum() * _y.sum()) / (_n * np.sum(_x * _x) - _x.sum() ** 2)
    check_close(_got, (_w, _b), f"fit_line on {_n} random points with x around {_loc:g}",
                rtol=_rtol, atol=1e-9,
                mistakes={"without centring, sum(x*y)/sum(x*x) gives the best line "
                          "through the origin": (_w0, _ym - _w0 * _xm),
                          "b = ȳ - w x̄, with a minus": (_w, _ym + _w * _xm),
                          "x and y swapped in the slope": (_ws, _ym - _ws * _xm),
                          "catastrophic cancellation: the formula (N Σxy - Σx Σy) / "
                          "(N Σx² - (Σx)²) loses all precision for large x; centre x and y "
                          "first": (_wt, _ym - _wt * _xm)})
try:
    with np.errstate(all="ignore"):
        fit_line([2.0, 2.0, 2.0], [1.0, 2.0, 3.0])
except ValueError:
    pass
except Exception as _e:
    raise AssertionError(f"fit_line with constant x raised {type(_e).__name__}: {_e}; "
                         "expected ValueError (the slope is undetermined)") from None
else:
    raise AssertionError("fit_line([2, 2, 2], [1, 2, 3]) should raise ValueError: with a "
                         "constant x the slope is undetermined (0 / 0)")
### END HIDDEN TESTS

# %% [markdown]
# The plot shows a fitted line with its residuals $y_i - \hat y_i$ (the vertical
# segments whose squares $E$ adds up), and the residuals on their own. A good linear fit
# leaves residuals with no visible pattern.

# %% tags=["demo"]
rng = np.random.default_rng(0)
x_pts = rng.uniform(0, 10, 30)
y_pts = 1.5 * x_pts + 2 + rng.normal(scale=2.0, size=30)
w_fit, b_fit = ref.fit_line(x_pts, y_pts)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
ax1.plot(x_pts, y_pts, "o", label="data")
xs_line = np.linspace(0, 10, 2)
ax1.plot(xs_line, w_fit * xs_line + b_fit, "C3", label=f"ŷ = {w_fit:.2f} x + {b_fit:.2f}")
ax1.vlines(x_pts, y_pts, w_fit * x_pts + b_fit, colors="gray", lw=0.8, label="residuals")
ax1.set(xlabel="x", ylabel="y", title="least-squares line")
ax1.legend()
ax2.axhline(0, color="k", lw=0.8)
ax2.plot(x_pts, y_pts - (w_fit * x_pts + b_fit), "o")
ax2.set(xlabel="x", ylabel="y - ŷ", title="residuals")
plt.tight_layout()
plt.show()

# %% [markdown]
# ### The loss surface and gradient descent
#
# A natural next question: what if the equations $\partial E/\partial\theta = 0$ cannot be
# solved in closed form, as for every neural network? **Gradient descent** (梯度下降)
# walks downhill instead, $\theta \leftarrow \theta - \eta\,\nabla_\theta E$, with a
# learning rate (学习率) $\eta$. For the mean squared error
# $L = \frac1N\sum_i (w x_i + b - y_i)^2$ the gradient is
#
# $$\frac{\partial L}{\partial w} = \frac2N\sum_i (w x_i + b - y_i)\,x_i, \qquad
#   \frac{\partial L}{\partial b} = \frac2N\sum_i (w x_i + b - y_i).$$
#
# The contour plot (等高线图) shows $L(w, b)$ for the data above, with raw $x \in [0, 10]$
# and with $x$ standardised. Raw features give a long, narrow valley: the largest stable
# learning rate is set by the steep direction, so progress along the flat one is slow.
# After standardisation the bowl is round and gradient descent heads almost straight for
# the minimum. Both runs take 60 steps.

# %% tags=["demo"]
def gd_path(x, y, lr, steps=60):
    w, b = -1.0, -4.0
    path = [(w, b)]
    for _ in range(steps):
        r = w * x + b - y
        w, b = w - lr * 2 * np.mean(r * x), b - lr * 2 * np.mean(r)
        path.append((w, b))
    return np.array(path)


x_std = (x_pts - x_pts.mean()) / x_pts.std()
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for ax, xx, lr, name in ((axes[0], x_pts, 0.015, "raw x"), (axes[1], x_std, 0.3, "standardised x")):
    w_opt, b_opt = ref.fit_line(xx, y_pts)
    W, B = np.meshgrid(np.linspace(w_opt - 6, w_opt + 6, 150),
                       np.linspace(b_opt - 12, b_opt + 12, 150))
    L = np.mean((W[..., None] * xx + B[..., None] - y_pts) ** 2, axis=-1)
    ax.contour(W, B, L, levels=np.geomspace(L.min() + 0.5, L.max(), 25), cmap="viridis")
    p = gd_path(xx, y_pts, lr)
    ax.plot(p[:, 0], p[:, 1], "o-", color="C3", ms=3, label=f"gradient descent, η = {lr}")
    ax.plot(w_opt, b_opt, "k*", ms=12, label="closed-form minimum")
    ax.set(xlabel="w", ylabel="b", title=f"L(w, b) with {name}")
    ax.legend(loc="lower left")
plt.tight_layout()
plt.show()

# %% [markdown]
# ### Many features: the normal equation
#
# With $D$ features, $\hat y = Xw + b$. Put the bias into the weights by appending a
# column of ones (全 1 列), $A = [X \;\; \mathbf 1]$ and $\theta = (w, b)$, so that
# $\hat y = A\theta$. Setting the gradient of $\|A\theta - y\|^2$ to zero gives the
# **normal equation** (正规方程)
#
# $$A^\top A\,\theta = A^\top y, \qquad \theta = (A^\top A)^{-1}A^\top y
#   \quad\text{when } A \text{ has full column rank.}$$
#
# > **Pitfall.** Some notes write the solution as $W^* = (X^TX)^{-1}X^TY$ and compute it
# > that way, with two slips:
# > 1. **No column of ones.** Without it the model is $\hat y = Xw$: every fitted
# >    hyperplane passes through the origin. Data whose mean is not explained by the
# >    features then gets a systematically wrong fit. Either append the ones column (as
# >    here) or centre $X$ and $y$ first.
# > 2. **An explicit inverse.** $(A^\top A)^{-1}$ is notation, not an algorithm.
# >    Forming $A^\top A$ *squares* the condition number (条件数), so nearly collinear
# >    features lose twice as many digits. With a duplicated or constant column,
# >    $A^\top A$ is singular and `np.linalg.inv` raises `LinAlgError`, although
# >    least squares still has solutions. Use `np.linalg.lstsq(A, y, rcond=None)`
# >    (an SVD of $A$). It returns the minimum-norm (最小范数) solution when there
# >    are many.
#
# The demo shows both on data with a mean far from zero and on two nearly collinear
# features.

# %% tags=["demo"]
rng = np.random.default_rng(1)
X_demo = rng.normal(size=(50, 2))
y_demo = X_demo @ np.array([2.0, -1.0]) + 10.0 + rng.normal(scale=0.1, size=50)
theta_no_bias = np.linalg.inv(X_demo.T @ X_demo) @ X_demo.T @ y_demo
theta = ref.normal_equation(X_demo, y_demo)
print("true w = [2, -1], b = 10")
print("no column of ones: w =", np.round(theta_no_bias, 3),
      f" RMSE = {np.sqrt(np.mean((X_demo @ theta_no_bias - y_demo) ** 2)):.2f}")
print("normal_equation (w..., b):  ", np.round(theta, 3),
      f" RMSE = {np.sqrt(np.mean((X_demo @ theta[:2] + theta[2] - y_demo) ** 2)):.2f}")

x1 = rng.normal(size=50)
X_col = np.column_stack([x1, x1 + 1e-7 * rng.normal(size=50)])
y_col = X_col @ np.array([1.0, 2.0]) + 1.0
A_col = np.hstack([X_col, np.ones((50, 1))])
print(f"\nnearly collinear columns: cond(A) = {np.linalg.cond(A_col):.1e}, "
      f"cond(AᵀA) = {np.linalg.cond(A_col.T @ A_col):.1e}")
print("explicit inverse:", np.linalg.inv(A_col.T @ A_col) @ A_col.T @ y_col, "(true [1, 2, 1])")
print("lstsq:           ", ref.normal_equation(X_col, y_col))
try:
    X_dup = np.column_stack([x1, x1])
    A_dup = np.hstack([X_dup, np.ones((50, 1))])
    np.linalg.inv(A_dup.T @ A_dup)
except np.linalg.LinAlgError as e:
    print("duplicated column: np.linalg.inv raises LinAlgError:", e)

# %% [markdown]
# ### Exercise 4.3 — `normal_equation`
# Return $\theta$ of shape `(D + 1,)` (or `(D + 1, K)` when `y` has shape `(N, K)`), the
# weights first and the **bias last**. Compute it the numerically sound way the pitfall
# above describes: the hidden tests use duplicated and nearly collinear columns, and
# fewer samples than parameters.

# %% nbgrader={"grade_id": "normal_equation", "solution": true}
def normal_equation(X, y):
    """Least-squares (w..., b) of y ~ X w + b, bias last."""
    ### BEGIN SOLUTION
    X = np.asarray(X, dtype=float)
    A = np.hstack([X, np.ones((X.shape[0], 1))])
    theta, *_ = np.linalg.lstsq(A, np.asarray(y, dtype=float), rcond=None)
    return theta
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_normal_equation", "grade": true, "points": 1}
def _check_theta(got, expected, X, label, mistakes=None):
    """Compare a theta, explaining a missing bias before the values."""
    got_shape = np.shape(got)
    if got_shape == (X.shape[1],) + np.shape(expected)[1:] and got_shape != np.shape(expected):
        raise AssertionError(f"{label}: expected shape {np.shape(expected)}, got shape "
                             f"{got_shape}. Likely mistake: no column of ones, so there is "
                             "no bias b (the fit is forced through the origin)")
    check_close(got, expected, label, rtol=1e-6, atol=1e-8, mistakes=mistakes)


_X = np.array([[0.0], [1.0], [2.0]])
_check_theta(answer(normal_equation, _X, [1.0, 3.0, 5.0]), [2.0, 1.0], _X,
             "normal_equation on (0, 1), (1, 3), (2, 5)",
             mistakes={"the bias goes last: theta = (w..., b)": [1.0, 2.0]})
_X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 1.0]])
_check_theta(answer(normal_equation, _X, [4.0, 1.0, 3.0, 5.0]), [2.0, -1.0, 2.0], _X,
             "normal_equation for y = 2 x1 - x2 + 2 on four points",
             mistakes={"the bias goes last: theta = (w..., b)": [2.0, 2.0, -1.0]})

# %% nbgrader={"grade_id": "test_normal_equation_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import linear as _ref

_rng = np.random.default_rng(5)
for _N, _D, _K in ((30, 3, None), (8, 1, None), (25, 4, 2), (1, 2, None), (5, 6, None)):
    _X = _rng.normal(size=(_N, _D))
    _y = _rng.normal(size=(_N,) if _K is None else (_N, _K))
    _exp = _ref.normal_equation(_X, _y)
    _label = f"normal_equation with X of shape {_X.shape} and y of shape {_y.shape}"
    try:
        _got = answer(normal_equation, _X, _y)
    except AssertionError as _e:
        if "LinAlgError" not in str(_e):
            raise
        raise AssertionError(f"{_e}. Likely mistake: with fewer samples than D + 1 the matrix "
                             "AᵀA is singular; the explicit inverse fails, use "
                             "np.linalg.lstsq") from None
    _check_theta(_got, _exp, _X, _label,
                 mistakes={"the bias goes last: theta = (w..., b)": np.roll(_exp, 1, axis=0)})
# A duplicated column: AᵀA is singular, least squares has many solutions; lstsq returns the
# minimum-norm one.
_x1 = _rng.normal(size=20)
_X = np.column_stack([_x1, _rng.normal(size=20), _x1])
_y = _rng.normal(size=20)
try:
    _got = answer(normal_equation, _X, _y)
except AssertionError as _e:
    if "LinAlgError" not in str(_e):
        raise
    raise AssertionError(f"{_e}. Likely mistake: the explicit inverse (AᵀA)⁻¹ does not exist "
                         "when a column is duplicated; use np.linalg.lstsq") from None
_check_theta(_got, _ref.normal_equation(_X, _y), _X,
             "normal_equation with a duplicated column (the minimum-norm solution)")
# Nearly collinear columns: forming AᵀA squares the condition number.
_x1 = _rng.normal(size=50)
_X = np.column_stack([_x1, _x1 + 1e-7 * _rng.normal(size=50)])
_y = _X @ np.array([1.0, 2.0]) + 1.0
with np.errstate(all="ignore"):
    try:
        _got = answer(normal_equation, _X, _y)
    except AssertionError as _e:
        _got = None
        _err = str(_e)
if _got is None:
    raise AssertionError(f"{_err}. Likely mistake: forming AᵀA squares the condition number; "
                         "use np.linalg.lstsq")
_exp = _ref.normal_equation(_X, _y)
if np.shape(_got) == np.shape(_exp) and not np.allclose(_got, _exp, rtol=1e-5, atol=1e-5):
    raise AssertionError(
        f"normal_equation with two nearly collinear columns: expected {_exp}, got "
        f"{np.asarray(_got)}. Likely mistake: an explicit inverse (or solve) of AᵀA squares "
        "the condition number (here about 1e7 → 1e14) and loses the digits; use "
        "np.linalg.lstsq on A itself")
_check_theta(_got, _exp, _X, "normal_equation with two nearly collinear columns")
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Logistic regression
#
# For two classes, $y \in \{0, 1\}$, logistic regression (逻辑回归) turns the linear score
# into a probability with the **sigmoid** (S 型函数):
#
# $$z = Xw + b, \qquad p = \sigma(z) = \frac{1}{1 + e^{-z}} = P(y = 1 \mid x),$$
#
# and is trained by minimising the mean **binary cross-entropy** (二元交叉熵)
#
# $$L = \frac1N\sum_{i=1}^N -y_i\log p_i - (1-y_i)\log(1-p_i).$$
#
# **The gradient.** Work on one sample and drop the index. With
# $\sigma'(z) = \sigma(z)(1-\sigma(z)) = p(1-p)$:
#
# $$\frac{\partial L}{\partial p} = -\frac{y}{p} + \frac{1-y}{1-p}
#     = \frac{p - y}{p(1-p)}, \qquad
#   \frac{\partial L}{\partial z} = \frac{\partial L}{\partial p}\,\sigma'(z)
#     = \frac{p-y}{p(1-p)}\,p(1-p) = p - y .$$
#
# The factor $p(1-p)$ cancels. That is why the gradient never vanishes on a confidently
# wrong sample, unlike the squared error $\frac12(p-y)^2$, whose gradient $(p-y)\,p(1-p)$
# goes to 0 as $p \to 0$ or $1$. With $z_i = x_i^\top w + b$ and the mean over $N$
# samples:
#
# $$\frac{\partial L}{\partial w} = \frac1N X^\top (p - y), \qquad
#   \frac{\partial L}{\partial b} = \frac1N\sum_{i=1}^N (p_i - y_i).$$
#
# These formulas are right. (Some notes write $z = wX + b$; with
# samples in the rows of $X$, as here and in torch, it is $Xw$.) One update of gradient
# descent is $w \leftarrow w - \eta\,\partial L/\partial w$, $b \leftarrow b - \eta\,
# \partial L/\partial b$.
#
# The provided helper below is a numerically stable sigmoid: it never computes
# `np.exp` of a large positive number, so logits of $\pm 800$ raise no overflow. Use it.

# %% nbgrader={"grade_id": "helper_sigmoid_softmax", "locked": true}
def sigmoid(z):
    """Stable logistic sigmoid 1 / (1 + exp(-z)), elementwise."""
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax(Z):
    """Stable softmax of each row of Z (shape (N, C))."""
    Z = np.asarray(Z, dtype=float)
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# %% [markdown]
# ### Exercise 5.1 — `logistic_regression_grad`
# Return `(dw, db)`: `dw` of shape `(D,)` and `db` a float, the gradient of the **mean**
# binary cross-entropy, for `w` of shape `(D,)`, a scalar `b`, `X` of shape `(N, D)` and
# targets `y` in $[0, 1]$ of shape `(N,)` (0/1 labels or soft targets).

# %% nbgrader={"grade_id": "logistic_regression_grad", "solution": true}
def logistic_regression_grad(w, b, X, y):
    """Gradient (dw, db) of the mean binary cross-entropy of sigmoid(X @ w + b)."""
    ### BEGIN SOLUTION
    X = np.asarray(X, dtype=float)
    dz = (sigmoid(X @ np.asarray(w, dtype=float) + b) - np.asarray(y, dtype=float)) / len(X)
    return X.T @ dz, float(np.sum(dz))
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_logistic_regression_grad", "grade": true, "points": 1}
_X = np.array([[1.0], [2.0]])
_out = answer(logistic_regression_grad, np.array([0.0]), 0.0, _X, np.array([0.0, 1.0]))
check_equal(len(_out), 2, "number of values returned by logistic_regression_grad (dw, db)")
check_close(_out[0], [-0.25], "dw with w = 0, b = 0 (p = 0.5 everywhere)",
            mistakes={"L is the mean over samples: divide by N": [-0.5],
                      "sign: the gradient is X^T (p - y) / N, not X^T (y - p) / N": [0.25],
                      "the factor p(1 - p) cancels: dL/dz = p - y (that was the squared "
                      "error's gradient)": [-0.0625]})
check_close(_out[1], 0.0, "db with w = 0, b = 0")
_X = np.array([[1.0, -2.0], [0.5, 1.0], [-1.0, 0.0]])
_w, _b, _y = np.array([0.3, -0.2]), 0.1, np.array([1.0, 0.0, 1.0])
_p = 1 / (1 + np.exp(-(_X @ _w + _b)))
_out = answer(logistic_regression_grad, _w, _b, _X, _y)
check_close(_out[0], _X.T @ (_p - _y) / 3, "dw on three samples",
            mistakes={"L is the mean over samples: divide by N": _X.T @ (_p - _y),
                      "sign: the gradient is X^T (p - y) / N, not X^T (y - p) / N":
                          _X.T @ (_y - _p) / 3})
check_close(_out[1], np.mean(_p - _y), "db on three samples",
            mistakes={"L is the mean over samples: divide by N": np.sum(_p - _y)})

# %% nbgrader={"grade_id": "test_logistic_regression_grad_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import linear as _ref

_rng = np.random.default_rng(6)
for _N, _D, _scale, _soft in ((20, 3, 1.0, False), (1, 4, 1.0, False), (50, 2, 3.0, True),
                              (6, 2, 400.0, False)):
    _X = _rng.normal(size=(_N, _D))
    _w = _rng.normal(scale=_scale, size=_D)
    _b = float(_rng.normal())
    _y = _rng.uniform(size=_N) if _soft else _rng.integers(0, 2, _N).astype(float)
    _dw, _db = _ref.logistic_regression_grad(_w, _b, _X, _y)
    _p = _ref.sigmoid(_X @ _w + _b)
    _label = (f"logistic_regression_grad on {_N} samples, {_D} features"
              + (", soft targets" if _soft else "") + (", logits up to ±800"
                                                        if _scale > 100 else ""))
    with np.errstate(over="raise"):
        try:
            _grads = answer(logistic_regression_grad, _w, _b, _X, _y)
        except AssertionError as _e:
            if "overflow" not in str(_e):
                raise
            raise AssertionError(f"{_e}. Likely mistake: 1/(1 + exp(-z)) overflows for large "
                                 "|z|; use the provided stable sigmoid") from None
    check_equal(len(_grads), 2, "how many values logistic_regression_grad returns (dw, db)")
    _dz = _p - _y
    check_close(_grads[0], _dw, f"dw, {_label}", atol=1e-10,
                mistakes={"L is the mean over samples: divide by N": _N * _dw,
                          "sign: the gradient is X^T (p - y) / N, not X^T (y - p) / N": -_dw,
                          "the factor p(1 - p) cancels: dL/dz = p - y; p(1 - p) belongs to "
                          "the squared error's gradient": _X.T @ (_dz * _p * (1 - _p)) / _N})
    check_close(_grads[1], _db, f"db, {_label}", atol=1e-10,
                mistakes={"L is the mean over samples: divide by N": _N * _db,
                          "sign: the gradient is X^T (p - y) / N, not X^T (y - p) / N": -_db})
### END HIDDEN TESTS

# %% [markdown]
# ### Training: mini-batch gradient descent
#
# Logistic regression has no closed form, so it is trained by gradient descent. The
# gradient above is a mean over samples. A **mini-batch** (小批量) of $B$ samples gives
# an estimate of it that costs $B/N$ of the full one, so the model can take many cheap
# steps per pass over the data. One pass over all the batches is an **epoch** (轮). To
# keep the batches from being the same in every epoch, the samples are shuffled at the
# start of each epoch. (Chapter 5 studies why this works and the optimizers built on it;
# here you write the loop itself.)
#
# Reproducibility needs care: one random generator, created once from the seed, draws a
# new order every epoch. A generator created again inside the loop would draw the same
# order every epoch. What is worth watching while training is the loss on the **whole**
# training set after each epoch. The loss of the last batch jumps from batch to batch.

# %% [markdown]
# ### Exercise 5.2 — `train_logistic_regression`
# Write `train_logistic_regression(X, y, grad_fn, lr, epochs, batch_size, seed)` and
# return `(w, b, losses)`:
# * `w` of shape `(D,)` and the float `b` start at 0;
# * create `rng = np.random.default_rng(seed)` **once**; at the start of each epoch draw
#   `perm = rng.permutation(N)` and visit the batches `perm[i:i + batch_size]` for
#   `i = 0, batch_size, 2 * batch_size, ...` in this order, the last, smaller batch
#   included;
# * for each batch, `dw, db = grad_fn(w, b, X_batch, y_batch)`, then one step of
#   gradient descent with the learning rate `lr` on `w` and `b`;
# * `losses` has one entry per epoch: the mean binary cross-entropy of section 5 over the
#   **whole** training set, with `w` and `b` as they are at the end of that epoch.
#
# `grad_fn` is any function with the signature of `logistic_regression_grad`: the demo
# below passes yours, the tests pass their own.

# %% nbgrader={"grade_id": "train_logistic_regression", "solution": true}
def train_logistic_regression(X, y, grad_fn, lr, epochs, batch_size, seed):
    """Mini-batch gradient descent on logistic regression; returns (w, b, losses)."""
    ### BEGIN SOLUTION
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    N, D = X.shape
    w, b = np.zeros(D), 0.0
    rng = np.random.default_rng(seed)
    losses = np.empty(epochs)
    for e in range(epochs):
        perm = rng.permutation(N)
        for i in range(0, N, batch_size):
            idx = perm[i:i + batch_size]
            dw, db = grad_fn(w, b, X[idx], y[idx])
            w = w - lr * np.asarray(dw, dtype=float)
            b = b - lr * float(db)
        z = X @ w + b
        losses[e] = np.mean(np.logaddexp(0.0, z) - y * z)
    return w, b, losses
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_train_logistic_regression", "grade": true, "points": 2}
def _check_batches(got, want, n, batch_size, call, seed=None):
    """Compare the batches (lists of row numbers) a training loop visited with the contract's."""
    per_epoch = -(-n // batch_size)
    sizes, want_sizes = [len(g) for g in got], [len(g) for g in want]
    hint = ""
    if sizes == [batch_size] * (n // batch_size) * (len(want) // per_epoch):
        hint = (" Likely mistake: the last, smaller batch was dropped; visit "
                "perm[i:i + batch_size] for every i = 0, batch_size, ... below N")
    elif len(got) == len(want) // per_epoch:
        hint = " Likely mistake: one step per epoch; take one step per batch"
    if sizes != want_sizes:
        raise AssertionError(f"{call}: grad_fn was called on batches of sizes {sizes}, "
                             f"expected {want_sizes}.{hint}")
    if got == want:
        return
    epochs = [sum(got[k:k + per_epoch], []) for k in range(0, len(got), per_epoch)]
    if len(epochs) > 1 and all(e == epochs[0] for e in epochs):
        hint = (" Likely mistake: every epoch visited the rows in the same order; create "
                "rng = np.random.default_rng(seed) once, before the epochs")
    elif epochs[0] == sorted(epochs[0]):
        hint = " Likely mistake: the rows were not shuffled; use perm = rng.permutation(N)"
    elif seed is not None and epochs[0] == np.random.RandomState(seed).permutation(n).tolist():
        hint = (" Likely mistake: np.random.seed, np.random.shuffle and np.random.permutation "
                "use numpy's old global generator; create rng = np.random.default_rng(seed) "
                "and draw perm = rng.permutation(N)")
    else:
        hint = (" The order must be perm = rng.permutation(N) of one generator "
                "np.random.default_rng(seed), cut into perm[i:i + batch_size]")
    raise AssertionError(f"{call}: the batches visited were {got}, expected {want}.{hint}")


def _bce(w, b, X, y):
    """Mean binary cross-entropy of sigmoid(X @ w + b) (moderate logits only)."""
    p = sigmoid(X @ w + b)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


# Ten rows; column 0 holds the row number / 10, so a batch tells which rows it holds.
_X = np.column_stack([np.arange(10) / 10, np.cos(np.arange(10))])
_y = (np.arange(10) % 3 == 0).astype(float)
_seen = []


def _constant_grad(w, b, Xb, yb):
    """A made-up gradient that records the batch: every step moves w by -lr * (0.2, -0.1)."""
    rows = np.rint(np.asarray(Xb)[:, 0] * 10).astype(int).tolist()
    _seen.append((rows, np.asarray(yb, dtype=float).tolist()))
    return np.array([0.2, -0.1]), 0.3


_w, _b, _losses = answer(train_logistic_regression, _X, _y, _constant_grad, 0.5, 3, 4, 0)
_call = ("train_logistic_regression(X of 10 rows, y, grad_fn, lr=0.5, epochs=3, batch_size=4, "
         "seed=0)")
_rng = np.random.default_rng(0)   # the contract: one generator, a new permutation per epoch
_want = [_p[_i:_i + 4].tolist() for _p in [_rng.permutation(10) for _ in range(3)]
         for _i in (0, 4, 8)]
_check_batches([_rows for _rows, _ in _seen], _want, 10, 4, _call, seed=0)
for _rows, _yb in _seen:
    check_equal(_yb, _y[_rows], f"{_call}: the labels passed with the rows {_rows} "
                "(y_batch holds the labels of the rows of X_batch)")
_step = np.array([0.2, -0.1, 0.3])
check_close([*np.ravel(_w), _b], -0.5 * 9 * _step, f"{_call}: (w[0], w[1], b) after 9 steps",
            rtol=1e-5, atol=1e-7,
            mistakes={"the last, smaller batch of each epoch was skipped (6 steps)":
                          -0.5 * 6 * _step,
                      "gradient descent steps against the gradient: w - lr * dw": 0.5 * 9 * _step})
_after = [_bce(-0.5 * 3 * _e * _step[:2], -0.5 * 3 * _e * 0.3, _X, _y) for _e in range(4)]
_last = [_want[3 * _e + 2] for _e in range(3)]
check_close(_losses, _after[1:], f"{_call}: losses", rtol=1e-5, atol=1e-7,
            mistakes={"losses[e] is taken after the epoch's steps, not before": _after[:3],
                      "losses[e] is the loss on the whole training set, not on the last batch":
                          [_bce(-0.5 * 3 * (_e + 1) * _step[:2], -0.5 * 3 * (_e + 1) * 0.3,
                                _X[_last[_e]], _y[_last[_e]]) for _e in range(3)],
                      "losses[e] is the mean over the samples, not the sum":
                          [10 * _v for _v in _after[1:]]})

# %% nbgrader={"grade_id": "test_train_logistic_regression_hidden", "grade": true, "points": 4}
### BEGIN HIDDEN TESTS
from dlnotes import linear as _ref


def _recording(log, fn):
    """fn, recording the X_batch of every call."""
    def grad_fn(w, b, Xb, yb):
        log.append(np.array(Xb, dtype=float))
        return fn(w, b, Xb, yb)
    return grad_fn


def _rows_of(batches, X):
    """Row numbers of X for each recorded batch (nearest row, so float32 copies work)."""
    return [np.argmin(np.abs(B[:, None, :] - X[None]).sum(axis=2), axis=1).tolist()
            for B in batches]


_rng = np.random.default_rng(8)
for _N, _D, _bs, _ep, _lr, _soft in ((37, 3, 8, 4, 0.5, False), (20, 2, 64, 3, 1.0, False),
                                     (9, 2, 1, 3, 0.2, False), (30, 4, 7, 3, 0.8, True)):
    _X = _rng.normal(size=(_N, _D))
    _y = _rng.uniform(size=_N) if _soft else (_X @ _rng.normal(size=_D) > 0).astype(float)
    _seed = int(_rng.integers(10_000))
    _call = (f"train_logistic_regression on {_N} samples, {_D} features, lr={_lr}, "
             f"epochs={_ep}, batch_size={_bs}, seed={_seed}" + (", soft targets" if _soft
                                                                else ""))
    _ref_log, _got_log = [], []
    _w_ref, _b_ref, _l_ref = _ref.train_logistic_regression(
        _X, _y, _recording(_ref_log, _ref.logistic_regression_grad), _lr, _ep, _bs, _seed)
    _out = answer(train_logistic_regression, _X, _y,
                  _recording(_got_log, _ref.logistic_regression_grad), _lr, _ep, _bs, _seed)
    check_equal(len(_out), 3, "how many values train_logistic_regression returns (w, b, losses)")
    _check_batches(_rows_of(_got_log, _X), _rows_of(_ref_log, _X), _N, _bs, _call, _seed)
    check_close(_out[0], _w_ref, f"{_call}: the trained w", rtol=1e-5, atol=1e-6,
                mistakes={"gradient descent steps against the gradient: w - lr * dw":
                              _ref.train_logistic_regression(
                                  _X, _y, lambda *a: tuple(-g for g in
                                                           _ref.logistic_regression_grad(*a)),
                                  _lr, _ep, _bs, _seed)[0]})
    check_close(_out[1], _b_ref, f"{_call}: the trained b", rtol=1e-5, atol=1e-6)
    _per_epoch = [_ref.train_logistic_regression(_X, _y, _ref.logistic_regression_grad, _lr,
                                                 _e, _bs, _seed)[:2] for _e in range(1, _ep + 1)]
    _last = [_rows_of(_ref_log, _X)[(_e + 1) * -(-_N // _bs) - 1] for _e in range(_ep)]
    _before = [_ref.logistic_regression_loss(np.zeros(_D), 0.0, _X, _y), *_l_ref[:-1]]
    check_close(_out[2], _l_ref, f"{_call}: losses", rtol=1e-5, atol=1e-6,
                mistakes={"losses[e] is taken after the epoch's steps, not before": _before,
                          "losses[e] is the loss on the whole training set, not on the last "
                          "batch": [_ref.logistic_regression_loss(_w, _b, _X[_r], _y[_r])
                                    for (_w, _b), _r in zip(_per_epoch, _last, strict=True)],
                          "losses[e] is the mean over the samples, not the sum": _N * _l_ref})
### END HIDDEN TESTS

# %% [markdown]
# The demo trains logistic regression with **your** `train_logistic_regression`, driven by
# **your** `logistic_regression_grad`, on `make_moons` (two interleaving half circles), and
# draws the decision boundary (决策边界) $p = 0.5$, i.e. $w^\top x + b = 0$. (A function
# you have not written yet is replaced by the reference, and a line says so.) The
# boundary of a linear classifier is a straight line, so it cannot follow the moons: a
# taste of why we need the non-linear networks of the next chapters. Adding the features
# $x_1^2, x_2^2, x_1x_2, x_1^3, x_2^3$ (still a linear model, in the new features) bends
# the boundary.

# %% tags=["demo"]
import time

from tqdm.auto import tqdm

from dlnotes import mine

own = mine.own(globals(), "00_foundations",
               ["logistic_regression_grad", "train_logistic_regression"])
X_m, y_m = ref_data.make_moons(300, noise=0.15, seed=0)
EPOCHS = 200


def cubic_features(X):
    x1, x2 = X[:, 0], X[:, 1]
    return np.column_stack([x1, x2, x1**2, x2**2, x1 * x2, x1**3, x2**3])


F_cubic_raw = cubic_features(X_m)
mu_c, sd_c = F_cubic_raw.mean(0), F_cubic_raw.std(0)
features = {"linear features": lambda X: X,
            "cubic features": lambda X: (cubic_features(X) - mu_c) / sd_c}
fits = {}
for name, feat in features.items():
    start = time.perf_counter()
    w, b, losses = own.train_logistic_regression(feat(X_m), y_m, own.logistic_regression_grad,
                                                 lr=0.5, epochs=EPOCHS, batch_size=30, seed=0)
    acc = np.mean((sigmoid(feat(X_m) @ w + b) >= 0.5) == y_m)
    print(f"{name}: {EPOCHS} epochs in {time.perf_counter() - start:.2f} s, "
          f"final loss {losses[-1]:.3f}, training accuracy {acc:.3f}")
    fits[name] = (feat, w, b, losses, acc)
g1, g2 = np.meshgrid(np.linspace(-1.6, 2.6, 200), np.linspace(-1.1, 1.6, 200))
grid = np.column_stack([g1.ravel(), g2.ravel()])
fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
for ax, (name, (feat, w, b, losses, acc)) in zip(axes[:2], fits.items(), strict=True):
    p_grid = sigmoid(feat(grid) @ w + b).reshape(g1.shape)
    ax.contourf(g1, g2, p_grid, levels=20, cmap="RdBu_r", alpha=0.6)
    ax.contour(g1, g2, p_grid, levels=[0.5], colors="k")
    ax.scatter(X_m[:, 0], X_m[:, 1], c=y_m, cmap="RdBu_r", edgecolors="k", s=15)
    ax.set(title=f"{name}: training accuracy {acc:.2f}", xlabel="x1", ylabel="x2")
    axes[2].plot(np.arange(1, EPOCHS + 1), losses, label=name)
axes[2].set(xlabel="epoch", ylabel="binary cross-entropy (whole training set)",
            title="your training loop: loss after each epoch", yscale="log")
axes[2].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 6. Softmax regression
#
# For $C$ classes the model has one weight column and one bias per class,
# $W \in \mathbb R^{D\times C}$, $b \in \mathbb R^C$. The logits (未归一化的对数概率)
# $Z = XW + b$ go through the **softmax** (归一化指数函数) row by row,
#
# $$P_{ic} = \frac{e^{Z_{ic}}}{\sum_{k} e^{Z_{ik}}},$$
#
# and the loss is the mean cross-entropy of the right classes,
# $L = -\frac1N\sum_i \log P_{i y_i}$. The usual derivation takes one sample,
# $\partial l/\partial o_j = \mathrm{softmax}(o)_j - y_j$: the same "prediction minus
# target" as logistic regression, with $y$ one-hot (独热编码). For a batch, with $Y$ the
# one-hot matrix of the labels ($Y_{ic} = 1$ if $y_i = c$):
#
# $$\frac{\partial L}{\partial Z} = \frac1N (P - Y), \qquad
#   \frac{\partial L}{\partial W} = \frac1N X^\top (P - Y), \qquad
#   \frac{\partial L}{\partial b} = \frac1N \sum_i (P_i - Y_i).$$
#
# With $C = 2$, softmax regression is logistic regression again: only the difference of
# the two logits matters, and $\mathrm{softmax}(z_0, z_1)_1 = \sigma(z_1 - z_0)$.

# %% [markdown]
# ### Exercise 6.1 — `softmax_regression_grad`
# Return `(dW, db)` with shapes `(D, C)` and `(C,)` for `W` of shape `(D, C)`, `b` of
# shape `(C,)`, `X` of shape `(N, D)` and integer labels `y` in `[0, C)` of shape `(N,)`.
# The provided `softmax` is numerically stable; if you write your own, it must stay
# finite when the rows' logits differ by hundreds.

# %% nbgrader={"grade_id": "softmax_regression_grad", "solution": true}
def softmax_regression_grad(W, b, X, y):
    """Gradient (dW, db) of the mean cross-entropy of softmax(X @ W + b)."""
    ### BEGIN SOLUTION
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=int)
    N = X.shape[0]
    dZ = softmax(X @ np.asarray(W, dtype=float) + np.asarray(b, dtype=float))
    dZ[np.arange(N), y] -= 1.0
    dZ /= N
    return X.T @ dZ, dZ.sum(axis=0)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_softmax_regression_grad", "grade": true, "points": 1}
_out = answer(softmax_regression_grad, np.zeros((1, 2)), np.zeros(2), np.array([[2.0]]),
              np.array([1]))
check_equal(len(_out), 2, "number of values returned by softmax_regression_grad (dW, db)")
check_close(_out[0], [[1.0, -1.0]], "dW for one sample x = 2, label 1, W = 0 (P = [0.5, 0.5])",
            mistakes={"subtract the one-hot labels: dZ = (P - Y) / N": [[1.0, 1.0]],
                      "sign: dZ = P - Y, not Y - P": [[-1.0, 1.0]]})
check_close(_out[1], [0.5, -0.5], "db for the same sample")
_X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 2.0]])
_y = np.array([0, 2, 1, 2])
_W = np.array([[0.5, -0.2, 0.1], [0.0, 0.3, -0.4]])
_bb = np.array([0.1, 0.0, -0.1])
_Z = _X @ _W + _bb
_P = np.exp(_Z) / np.exp(_Z).sum(axis=1, keepdims=True)
_Y = np.eye(3)[_y]
_out = answer(softmax_regression_grad, _W, _bb, _X, _y)
check_close(_out[0], _X.T @ (_P - _Y) / 4, "dW on four samples, three classes",
            mistakes={"L is the mean over samples: divide by N": _X.T @ (_P - _Y),
                      "subtract the one-hot labels: dZ = (P - Y) / N": _X.T @ _P / 4})
check_close(_out[1], (_P - _Y).mean(axis=0), "db on four samples, three classes",
            mistakes={"L is the mean over samples: divide by N": (_P - _Y).sum(axis=0)})
# Two confidently wrong samples whose largest logits differ by 800: rows [800, 0] and
# [-800, 0]. Each row's softmax is one-hot up to e^-800, so dZ = (P - Y) / 2 exactly.
_X, _W, _bb, _y = np.array([[1.0], [-1.0]]), np.array([[800.0, 0.0]]), np.zeros(2), np.array([1, 0])
_Zg = _X @ _W - (_X @ _W).max()          # shifted by the largest logit of the whole batch
with np.errstate(under="ignore", invalid="ignore"):
    _Pg = np.exp(_Zg) / np.exp(_Zg).sum(axis=1, keepdims=True)
    _out = answer(softmax_regression_grad, _W, _bb, _X, _y)
_global = "subtract each row's own maximum (axis=1, keepdims=True), not the largest logit of " \
          "the whole batch: a row far below it underflows to 0 / 0"
check_close(_out[0], [[1.0, -1.0]], "dW for logit rows [800, 0] and [-800, 0], labels [1, 0]",
            mistakes={_global: _X.T @ (_Pg - np.eye(2)[_y]) / 2})
check_close(_out[1], [0.0, 0.0], "db for logit rows [800, 0] and [-800, 0], labels [1, 0]",
            mistakes={_global: (_Pg - np.eye(2)[_y]).mean(axis=0)})

# %% nbgrader={"grade_id": "test_softmax_regression_grad_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import linear as _ref

_rng = np.random.default_rng(7)
for _N, _D, _C, _scale in ((30, 4, 5, 1.0), (1, 3, 2, 1.0), (12, 2, 10, 2.0), (8, 3, 4, 300.0)):
    _X = _rng.normal(size=(_N, _D))
    _W = _rng.normal(scale=_scale, size=(_D, _C))
    _bb = _rng.normal(size=_C)
    _y = _rng.integers(0, _C, _N)
    _dW, _db = _ref.softmax_regression_grad(_W, _bb, _X, _y)
    _Z = _X @ _W + _bb[None, :]
    _E = np.exp(_Z - _Z.max(axis=1, keepdims=True))
    _P = _E / _E.sum(axis=1, keepdims=True)
    _Y = np.eye(_C)[_y]
    _label = f"softmax_regression_grad on {_N} samples, {_D} features, {_C} classes" + (
        ", logits up to ±800" if _scale > 100 else "")
    with np.errstate(over="raise"):
        try:
            _grads = answer(softmax_regression_grad, _W, _bb, _X, _y)
        except AssertionError as _e:
            if "overflow" not in str(_e):
                raise
            raise AssertionError(f"{_e}. Likely mistake: exp of large logits overflows; use "
                                 "the provided softmax (it subtracts the row maximum)") from None
    check_equal(len(_grads), 2, "how many values softmax_regression_grad returns (dW, db)")
    check_close(_grads[0], _dW, f"dW, {_label}", atol=1e-10,
                mistakes={"L is the mean over samples: divide by N": _N * _dW,
                          "sign: dZ = P - Y, not Y - P": -_dW,
                          "subtract the one-hot labels: dZ = (P - Y) / N": _X.T @ _P / _N,
                          "the labels must be one-hot: P - y[:, None] subtracts the class "
                          "index from every column": _X.T @ (_P - _y[:, None]) / _N})
    check_close(_grads[1], _db, f"db, {_label}", atol=1e-10,
                mistakes={"L is the mean over samples: divide by N": _N * _db,
                          "sign: dZ = P - Y, not Y - P": -_db})
# Rows whose largest logits lie 700 to 900 apart: a shift by the batch's global maximum
# leaves whole rows at exp(-800) = 0.
_GLOBAL_MAX = ("the softmax must subtract each row's own maximum (axis=1, keepdims=True); "
               "the largest logit of the whole batch leaves rows far below it at 0 / 0")
_X = _rng.normal(size=(6, 3))
_W = _rng.normal(size=(3, 4))
_bb = np.zeros(4)
_shift = np.array([0.0, 700.0, -200.0, 800.0, 0.0, 900.0])
_y = _rng.integers(0, 4, 6)
_Xs = np.column_stack([_X, np.ones(6)])
_Ws = np.vstack([_W, np.zeros(4)])
_Xs[:, -1] = _shift
_Ws[-1] = [1.0, 0.0, 0.0, 0.0]
_dW, _db = _ref.softmax_regression_grad(_Ws, _bb, _Xs, _y)
_Zg = _Xs @ _Ws - (_Xs @ _Ws).max()
with np.errstate(under="ignore", invalid="ignore", divide="ignore"):
    _Pg = np.exp(_Zg) / np.sum(np.exp(_Zg), axis=1, keepdims=True)
    _grads = answer(softmax_regression_grad, _Ws, _bb, _Xs, _y)
_Yg = np.eye(4)[_y]
check_close(_grads[0], _dW, "dW, rows whose largest logits differ by up to 900", atol=1e-8,
            mistakes={_GLOBAL_MAX: _Xs.T @ (_Pg - _Yg) / 6})
check_close(_grads[1], _db, "db, rows whose largest logits differ by up to 900", atol=1e-10,
            mistakes={_GLOBAL_MAX: (_Pg - _Yg).mean(axis=0)})
### END HIDDEN TESTS

# %% [markdown]
# The demo trains softmax regression with **your** `softmax_regression_grad` on the 8×8
# handwritten digits (1797 images, 10 classes) with mini-batch gradient descent, after a
# stratified 8/1/1 split and
# standardisation fitted on the training split. Softmax regression is a network with no
# hidden layer, and it already reaches about 97 % validation accuracy. The images show
# the learned weight column of each class.

# %% tags=["demo"]
X_d, y_d = ref_data.load_digits()
Xd_tr, Xd_va, Xd_te, yd_tr, yd_va, yd_te = ref_data.train_val_test_split(
    X_d, y_d, val_size=0.1, test_size=0.1, stratify=True, seed=0)
Xd_tr, Xd_va, Xd_te = ref_data.standardize(Xd_tr, Xd_va, Xd_te)
own_sm = mine.own(globals(), "00_foundations", ["softmax_regression_grad"])
W_d, b_d = np.zeros((64, 10)), np.zeros(10)
history = []
for epoch in tqdm(range(30), desc="softmax regression on digits"):
    for xb, yb in ref_data.minibatches(Xd_tr, yd_tr, 64, rng=epoch):
        dW, db = own_sm.softmax_regression_grad(W_d, b_d, xb, yb)
        W_d -= 0.1 * dW
        b_d -= 0.1 * db
    history.append((ref.softmax_regression_loss(W_d, b_d, Xd_tr, yd_tr),
                    ref.softmax_regression_loss(W_d, b_d, Xd_va, yd_va)))
acc_va = np.mean(np.argmax(Xd_va @ W_d + b_d, axis=1) == yd_va)
print(f"validation accuracy after 30 epochs: {acc_va:.3f}")
fig = plt.figure(figsize=(13, 3))
ax = fig.add_subplot(1, 6, (1, 2))
ax.plot(np.array(history))
ax.legend(["training", "validation"])
ax.set(xlabel="epoch", ylabel="cross-entropy")
for c in range(10):
    axc = fig.add_subplot(2, 12, 5 + c + (c >= 5) * 7)
    axc.imshow(W_d[:, c].reshape(8, 8), cmap="RdBu_r")
    axc.set_title(str(c), fontsize=9)
    axc.axis("off")
plt.show()

# %% [markdown]
# ## 7. Underfitting and overfitting
#
# Fit a polynomial of degree $d$ to 20 noisy samples of $\sin(\pi x)$. It is still a
# linear model, in the features $x, x^2, \dots, x^d$, so `normal_equation` fits it. The
# curves show the training and validation error (mean squared error) against the
# degree:
#
# * **underfitting** (欠拟合): degree 0 or 1. Training *and* validation errors are both
#   high; the model is too simple for the data.
# * **overfitting** (过拟合): high degrees. The training error keeps falling, while the
#   validation error turns up. The model has learned the noise of its 20 points.
#
# This is the classic diagnostic: a training loss that keeps falling while the
# validation loss rises means overfitting, and two curves that both stay high mean
# underfitting. The validation curve is what chooses $d$; the test set is not used for
# that. More data pushes the overfitting to higher degrees, and so do the regularisation
# methods of chapter 6.

# %% tags=["demo"]
def poly_features(x, degree):
    if degree == 0:
        return np.zeros((len(x), 0))
    return np.column_stack([x**k for k in range(1, degree + 1)])


def poly_fit_errors(x_tr, y_tr, x_va, y_va, degree):
    F_tr = poly_features(x_tr, degree)
    if degree == 0:
        theta = np.array([y_tr.mean()])
    else:
        theta = ref.normal_equation(F_tr, y_tr)

    def predict(x):
        return poly_features(x, degree) @ theta[:-1] + theta[-1]

    return (np.mean((predict(x_tr) - y_tr) ** 2), np.mean((predict(x_va) - y_va) ** 2), predict)


def truth(x):
    return np.sin(np.pi * x)


rng = np.random.default_rng(0)
x_pool = rng.uniform(-1, 1, 200)
y_pool = truth(x_pool) + rng.normal(scale=0.25, size=200)
x_val = rng.uniform(-1, 1, 500)
y_val = truth(x_val) + rng.normal(scale=0.25, size=500)
degrees = np.arange(0, 16)
errs = np.array([poly_fit_errors(x_pool[:20], y_pool[:20], x_val, y_val, d)[:2] for d in degrees])
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.semilogy(degrees, errs[:, 0], "o-", label="training error")
ax.semilogy(degrees, errs[:, 1], "s-", label="validation error")
ax.axhline(0.25**2, color="k", ls=":", label="noise level σ²")
ax.set(xlabel="polynomial degree", ylabel="mean squared error",
       title="20 training points: under- and overfitting", ylim=(1e-3, 10))
ax.legend()
plt.show()

# %% [markdown]
# ### A widget: degree and training-set size
#
# Move the sliders. With 10 points, degree 9 passes through every training point
# (training error ≈ 0) and swings wildly between them. With 200 points the same degree is
# harmless. The right panel redraws both error curves for the chosen training size, and
# the dashed line marks the chosen degree.

# %% tags=["demo"]
import ipywidgets as widgets


def show_poly(degree=3, n_train=20):
    xs = np.linspace(-1, 1, 400)
    x_tr, y_tr = x_pool[:n_train], y_pool[:n_train]
    tr_err, va_err, predict = poly_fit_errors(x_tr, y_tr, x_val, y_val, degree)
    curves = np.array([poly_fit_errors(x_tr, y_tr, x_val, y_val, d)[:2] for d in degrees])
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.8))
    ax1.plot(xs, truth(xs), "k:", label="sin(πx)")
    ax1.plot(xs, predict(xs), "C3", label=f"degree {degree}")
    ax1.plot(x_tr, y_tr, "o", ms=4, label=f"{n_train} training points")
    ax1.set(ylim=(-2, 2), xlabel="x", ylabel="y",
            title=f"training MSE {tr_err:.3f}, validation MSE {va_err:.3f}")
    ax1.legend(loc="upper left", fontsize=8)
    ax2.semilogy(degrees, curves[:, 0], "o-", label="training")
    ax2.semilogy(degrees, curves[:, 1], "s-", label="validation")
    ax2.axvline(degree, color="gray", ls="--")
    ax2.set(xlabel="degree", ylabel="MSE", ylim=(1e-4, 100), title="error vs degree")
    ax2.legend()
    plt.tight_layout()
    plt.show()


widgets.interact(show_poly,
                 degree=widgets.IntSlider(value=3, min=0, max=15, description="degree"),
                 n_train=widgets.IntSlider(value=20, min=10, max=200, step=10,
                                           description="train size"));

# %% [markdown]
# ## 8. Choosing a hyper-parameter by k-fold cross-validation
#
# Section 7 chose the capacity of a model with one validation set. This section chooses a
# penalty with k-fold cross-validation (section 2), and keeps the preprocessing honest
# inside each fold.
#
# **Ridge regression** (岭回归) is least squares with a penalty on the size of the
# weights:
#
# $$L(w, b) = \frac1n\,\bigl\|Xw + b\mathbf 1 - y\bigr\|^2 + \lambda\,\|w\|^2 ,
#   \qquad \lambda \ge 0 .$$
#
# The bias $b$ is not penalised: moving every target up by 1 should move $b$ by 1 and
# cost nothing. Setting the derivative in $b$ to zero gives
# $\frac2n\sum_i (x_i^\top w + b - y_i) = 0$, so $b = \bar y - \bar x^\top w$ (the fit
# passes through the centre of the data, as in section 4). Substituting it, with the
# centred data $X_c = X - \mathbf 1\bar x^\top$ and $y_c = y - \bar y$, leaves
# $\frac1n\|X_c w - y_c\|^2 + \lambda\|w\|^2$, whose gradient in $w$ is
#
# $$\frac2n X_c^\top (X_c w - y_c) + 2\lambda w = 0
#   \quad\Longrightarrow\quad (X_c^\top X_c + n\lambda I)\,w = X_c^\top y_c .$$
#
# With $\lambda = 0$ this is least squares again (solve it as section 4 taught: the
# matrix can be singular). Any $\lambda > 0$ makes the matrix invertible, and as
# $\lambda \to \infty$, $w \to 0$ and the model predicts $\bar y$: a larger $\lambda$ is
# a simpler model. The factor $n$ comes from the $\frac1n$ of the mean: scikit-learn's
# `Ridge` penalises the *sum* of squared errors, so its `alpha` is $n\lambda$.
#
# **Standardise first, inside each fold.** $\lambda\|w\|^2$ treats all weights alike,
# but a weight's size depends on its feature's unit: a feature measured in millimetres
# instead of metres needs a weight 1000 times smaller and is barely penalised. So the
# features are standardised before the fit. In each round of k-fold cross-validation
# the validation fold plays the test set's part, so the mean and standard deviation
# come from that round's **training part only**, and are applied unchanged to its
# validation part (section 3's leak, one level down).
#
# **The procedure.** For each candidate $\lambda$ and each fold: standardise with the
# training part's statistics, fit $w, b$ on the training part, and score the mean squared
# error on the validation part. A candidate's score is the **plain mean of its fold
# MSEs** (one number per fold, whatever the fold's size). The chosen $\lambda$ has the
# smallest score; when several are tied, take the **largest** of them, the simplest
# model.

# %% [markdown]
# ### Exercise 8.1 — `kfold_select`
# Write `kfold_select(X, y, lambdas, folds)` and return `(best_lambda, mean_val_mse)`:
# * `X` of shape `(N, D)`, `y` of shape `(N,)`, `lambdas` a sequence of $L$ penalties
#   $\ge 0$, and `folds` a list of pairs `(train_idx, val_idx)` of integer index arrays
#   into `X` (for example the output of your `kfold_indices`; rows that belong to no
#   fold are not used);
# * in each fold, standardise as `standardize` does (population standard deviation; a
#   constant column is only centred) and fit the ridge regression above on the training
#   part, for every $\lambda$;
# * `mean_val_mse`: an array of shape `(L,)`, the mean over folds of the validation MSE,
#   in the order of `lambdas`; `best_lambda`: a float, the $\lambda$ with the smallest
#   entry, the largest such $\lambda$ on a tie.
#
# Write the standardisation and the ridge fit inside your answer (a helper function in
# the same cell is fine): an answer does not call another exercise's answer.

# %% nbgrader={"grade_id": "kfold_select", "solution": true}
def kfold_select(X, y, lambdas, folds):
    """Ridge penalty chosen by k-fold cross-validation: (best_lambda, mean_val_mse)."""
    ### BEGIN SOLUTION
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    lambdas = np.asarray(lambdas, dtype=float)
    fold_mse = np.empty((len(lambdas), len(folds)))
    for k, (tr, va) in enumerate(folds):
        mu, sd = X[tr].mean(axis=0), X[tr].std(axis=0)
        sd = np.where(sd == 0, 1.0, sd)
        X_tr, X_va = (X[tr] - mu) / sd, (X[va] - mu) / sd
        n, D = X_tr.shape
        y_mean = y[tr].mean()
        for j, lam in enumerate(lambdas):
            w = np.linalg.lstsq(X_tr.T @ X_tr + n * lam * np.eye(D),
                                X_tr.T @ (y[tr] - y_mean), rcond=None)[0]
            fold_mse[j, k] = np.mean((X_va @ w + y_mean - y[va]) ** 2)
    mean_mse = fold_mse.mean(axis=1)
    best = lambdas[mean_mse <= mean_mse.min() * (1 + 1e-12)].max()
    return float(best), mean_mse
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_kfold_select", "grade": true, "points": 2}
# One fold: train on x = -1, 1 (already standardised: mean 0, std 1) with y = 0, 2;
# validate on x = 3, y = 2.2. Worked by hand from the derivation above.
_X, _y = np.array([[-1.0], [1.0], [3.0]]), np.array([0.0, 2.0, 2.2])
_folds = [(np.array([0, 1]), np.array([2]))]
_best, _mse = answer(kfold_select, _X, _y, [0.0, 1.0, 3.0], _folds)
check_close(_mse, [3.24, 0.09, 0.2025],
            "mean_val_mse, one fold, lambdas [0, 1, 3] (train x = -1, 1; validate x = 3)",
            atol=1e-8, rtol=1e-6,
            mistakes={"the scaler was fitted on rows outside the training part (here the "
                      "validation row): standardise with the training part's mean and std "
                      "only": [3.24, (4.2 / 11) ** 2, (13 / 15) ** 2],
                      "the data term is the MEAN squared error: with the sum, the penalty "
                      "is n_train times weaker (the matrix is Xc^T Xc + n λ I)": [3.24, 0.64, 0.0],
                      "the bias b is not penalised: b = mean(y) - mean(x)^T w":
                          [3.24, 0.04, 1.44],
                      "standardise with the population std (ddof=0), as standardize does":
                          [3.24, 0.04, (2.2 - 1 - 3 / 7) ** 2]})
check_close(_best, 1.0, "best_lambda for the same fold (its MSE is the smallest)")
# Two folds of different sizes and lambda = 0: the line y = 1 + x fits the training rows
# exactly; the first fold's MSE is 1, the second fold's is (2^2 + 0^2) / 2 = 2.
_X, _y = np.array([[-1.0], [1.0], [3.0], [-3.0], [5.0]]), np.array([0.0, 2.0, 5.0, 0.0, 6.0])
_folds = [(np.array([0, 1]), np.array([2])), (np.array([0, 1]), np.array([3, 4]))]
check_close(answer(kfold_select, _X, _y, [0.0], _folds)[1], [1.5],
            "mean_val_mse over two folds with MSEs 1 and 2", atol=1e-8, rtol=1e-6,
            mistakes={"average the fold MSEs (one number per fold), do not pool the squared "
                      "errors of all validation rows": [5 / 3]})
# Features constant on every training part: w = 0 for every lambda, so all scores tie.
_X, _y = np.ones((6, 2)) * [3.0, -1.0], np.array([1.0, 2.0, 0.0, 3.0, 1.0, 2.0])
_folds = [(np.arange(3, 6), np.arange(3)), (np.arange(3), np.arange(3, 6))]
with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
    _best, _mse = answer(kfold_select, _X, _y, [0.5, 2.0, 0.1], _folds)
check_close(_mse, [5 / 3] * 3, "mean_val_mse with constant features (every lambda predicts "
            "the training mean; a constant column has std 0 and is only centred)", rtol=1e-6)
check_close(_best, 2.0, "best_lambda when the scores of lambdas [0.5, 2.0, 0.1] tie",
            mistakes={"ties go to the LARGEST lambda (the simpler model), not the smallest": 0.1,
                      "ties go to the largest lambda, not the first in the list": 0.5})

# %% nbgrader={"grade_id": "test_kfold_select_hidden", "grade": true, "points": 4}
### BEGIN HIDDEN TESTS
from sklearn.datasets import load_diabetes as _load_diabetes
from sklearn.linear_model import Ridge as _Ridge
from sklearn.pipeline import make_pipeline as _make_pipeline
from sklearn.preprocessing import StandardScaler as _StandardScaler

from dlnotes import data as _ref_data


def _sk_scores(X, y, lambdas, folds, leak=False, alpha_times_n=True, pooled=False):
    """Each lambda's mean validation MSE by a StandardScaler + Ridge pipeline per fold."""
    if leak:
        X = _StandardScaler().fit_transform(X)
    out = []
    for lam in lambdas:
        errs = []
        for tr, va in folds:
            ridge = _Ridge(alpha=lam * len(tr) if alpha_times_n else lam)
            model = _make_pipeline(ridge) if leak else _make_pipeline(_StandardScaler(), ridge)
            errs.append((model.fit(X[tr], y[tr]).predict(X[va]) - y[va]) ** 2)
        out.append(np.mean(np.concatenate(errs)) if pooled else np.mean([e.mean() for e in errs]))
    return np.array(out)


def _largest_tied(lambdas, scores):
    lambdas = np.asarray(lambdas, dtype=float)
    return float(lambdas[scores <= scores.min() * (1 + 1e-9)].max())


_LEAK = ("the scaler was fitted on all of X; fit the mean and std on each fold's training "
         "part only (the validation rows must not shape the features)")
_X_db, _y_db = _load_diabetes(return_X_y=True)
_order = np.argsort(_X_db[:, 2])   # sorted by a feature: each fold's scale differs
_rng = np.random.default_rng(9)
_X_r = _rng.normal(size=(23, 3)) * [0.5, 20.0, 3.0] + [1.0, -40.0, 5.0]
_y_r = _X_r @ np.array([1.0, 0.05, -0.3]) + _rng.normal(size=23)
_cases = (("the diabetes data, 5 shuffled folds", _X_db, _y_db,
           [1e-4, 1e-3, 1e-2, 0.1, 1.0],
           list(_ref_data.kfold_indices(len(_y_db), 5, shuffle=True, seed=3))),
          ("the diabetes data sorted by a feature, 4 folds", _X_db[_order], _y_db[_order],
           [0.03, 0.3, 1.0], list(_ref_data.kfold_indices(len(_y_db), 4))),
          ("23 random rows in 4 folds of sizes 6, 6, 6, 5", _X_r, _y_r, [0.0, 0.05, 0.5, 5.0],
           list(_ref_data.kfold_indices(23, 4, shuffle=True, seed=4))))
for _name, _X, _y, _lams, _folds in _cases:
    _want = _sk_scores(_X, _y, _lams, _folds)
    _out = answer(kfold_select, _X, _y, _lams, _folds)
    check_equal(len(_out), 2, "how many values kfold_select returns (best_lambda, mean_val_mse)")
    check_close(_out[1], _want, f"mean_val_mse on {_name}, lambdas {_lams}", rtol=1e-5,
                atol=1e-8,
                mistakes={_LEAK: _sk_scores(_X, _y, _lams, _folds, leak=True),
                          "the data term is the MEAN squared error over the n_train rows; "
                          "with the sum the penalty is n_train times weaker":
                              _sk_scores(_X, _y, _lams, _folds, alpha_times_n=False),
                          "average the fold MSEs (one number per fold), do not pool the "
                          "squared errors of all validation rows":
                              _sk_scores(_X, _y, _lams, _folds, pooled=True)})
    check_close(_out[0], _largest_tied(_lams, _want), f"best_lambda on {_name}")
# Ties: a grid that repeats a value, and features constant on every training part.
_lams = [0.2, 5.0, 0.2, 1.0]
_X_t = np.column_stack([np.full(12, 2.0), np.full(12, -7.0)])
_y_t = _rng.normal(size=12)
_folds = list(_ref_data.kfold_indices(12, 3))
with np.errstate(invalid="ignore", divide="ignore"):
    _out = answer(kfold_select, _X_t, _y_t, _lams, _folds)
_want = _sk_scores(_X_t, _y_t, _lams, _folds)
check_close(_out[1], _want, "mean_val_mse with constant features (a constant column is "
            "only centred)", rtol=1e-6, atol=1e-10)
check_close(_out[0], 5.0, "best_lambda when every score ties, lambdas [0.2, 5.0, 0.2, 1.0]",
            mistakes={"ties go to the LARGEST lambda (the simpler model), not the smallest": 0.2,
                      "ties go to the largest lambda, not the last in the list": 1.0})
# Rows that belong to no fold change nothing.
_X_x = np.vstack([_X_r, [[100.0, 500.0, -80.0], [-90.0, -700.0, 60.0]]])
_y_x = np.r_[_y_r, 50.0, -50.0]
_folds = list(_ref_data.kfold_indices(23, 4))
_out = answer(kfold_select, _X_x, _y_x, [0.01, 1.0], _folds)
check_close(_out[1], _sk_scores(_X_r, _y_r, [0.01, 1.0], _folds),
            "mean_val_mse with two extra rows that belong to no fold (they must not matter)",
            rtol=1e-5, atol=1e-8, mistakes={_LEAK: _sk_scores(_X_x, _y_x, [0.01, 1.0], _folds,
                                                              leak=True)})
### END HIDDEN TESTS

# %% [markdown]
# The demo chooses $\lambda$ for the diabetes data that ships with scikit-learn (442
# patients, 10 measurements, a disease score a year later). To give ridge something to
# do, each patient gets all 55 products of two measurements as extra features: 65
# features for about 350 training rows, enough to overfit. It holds out a test split,
# runs **your** `kfold_indices` and **your** `kfold_select` on the rest, refits on the
# whole training split with the chosen $\lambda$ and scores the test split once.

# %% tags=["demo"]
from sklearn.datasets import load_diabetes

own = mine.own(globals(), "00_foundations", ["kfold_indices", "kfold_select"])
X_db, y_db = load_diabetes(return_X_y=True)
pairs = [(i, j) for i in range(10) for j in range(i, 10)]
X_db = np.column_stack([X_db] + [X_db[:, i] * X_db[:, j] for i, j in pairs])
perm = np.random.default_rng(0).permutation(len(y_db))
test_rows, train_rows = perm[:88], perm[88:]
X_trn, y_trn, X_tst, y_tst = X_db[train_rows], y_db[train_rows], X_db[test_rows], y_db[test_rows]
lambdas = np.geomspace(1e-4, 10, 21)
folds = own.kfold_indices(len(y_trn), 5, shuffle=True, seed=0)
best_lam, cv_mse = own.kfold_select(X_trn, y_trn, lambdas, folds)
S_trn, S_tst = ref_data.standardize(X_trn, X_tst)   # refit on the whole training split
w_best, b_best = ref.ridge_fit(S_trn, y_trn, best_lam)
w_ols, b_ols = ref.ridge_fit(S_trn, y_trn, 0.0)
print(f"{X_trn.shape[0]} training rows, {X_trn.shape[1]} features; chosen lambda = {best_lam:.4g}")
print(f"test MSE: lambda = {best_lam:.4g}: {np.mean((S_tst @ w_best + b_best - y_tst) ** 2):.0f}, "
      f"lambda = 0 (least squares): {np.mean((S_tst @ w_ols + b_ols - y_tst) ** 2):.0f}, "
      f"predicting the training mean: {np.mean((y_trn.mean() - y_tst) ** 2):.0f}")
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.semilogx(lambdas, cv_mse, "o-", label="mean validation MSE over 5 folds")
ax.axvline(best_lam, color="C3", ls="--", label=f"chosen λ = {best_lam:.3g}")
ax.set(xlabel="λ", ylabel="mean squared error", title="Ridge on diabetes: choosing λ by 5-fold CV")
ax.legend()
plt.show()

# %% [markdown]
# ## 9. Optional: the gradients in torch, on a GPU if there is one
#
# torch's autograd differentiates the losses for us. The demo checks the logistic and
# softmax regression gradients of this chapter against it (float64, on the GPU when
# available). It is skipped when torch is missing.

# %% tags=["demo"]
try:
    import torch
except ImportError:
    torch = None
if torch is not None:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    rng = np.random.default_rng(0)
    Xn, wn, yn = rng.normal(size=(16, 3)), rng.normal(size=3), rng.integers(0, 2, 16)
    Xt = torch.tensor(Xn, device=device)
    wt = torch.tensor(wn, device=device, requires_grad=True)
    bt = torch.tensor(0.3, dtype=torch.float64, device=device, requires_grad=True)
    torch.nn.functional.binary_cross_entropy_with_logits(
        Xt @ wt + bt, torch.tensor(yn, dtype=torch.float64, device=device)).backward()
    dw, db = ref.logistic_regression_grad(wn, 0.3, Xn, yn)
    print(f"logistic on {device}: max |dw torch - numpy| = "
          f"{np.abs(wt.grad.cpu().numpy() - dw).max():.1e}, "
          f"|db diff| = {abs(bt.grad.item() - db):.1e}")
    Wn, bn, yc = rng.normal(size=(3, 4)), rng.normal(size=4), rng.integers(0, 4, 16)
    Wt = torch.tensor(Wn, device=device, requires_grad=True)
    bct = torch.tensor(bn, device=device, requires_grad=True)
    torch.nn.functional.cross_entropy(Xt @ Wt + bct, torch.tensor(yc, device=device)).backward()
    dW, db = ref.softmax_regression_grad(Wn, bn, Xn, yc)
    print(f"softmax on {device}: max |dW torch - numpy| = "
          f"{np.abs(Wt.grad.cpu().numpy() - dW).max():.1e}, "
          f"max |db diff| = {np.abs(bct.grad.cpu().numpy() - db).max():.1e}")

# %% [markdown]
# ## Summary
# - Supervised learning fits $f_\theta(x) \approx y$ by minimising a loss on training data;
#   what matters is the error on new data.
# - Split 8/1/1 into training, validation and test sets, stratified for classes. k-fold
#   cross-validation validates every sample once; the first $n \bmod k$ folds get one
#   extra sample. `KFold` wants `shuffle=True` with a seed, and every fold gets a fresh
#   model (`clone`).
# - Standardise with $\mu, \sigma$ of the **training** split, applied unchanged to the
#   others. Statistics of all the data leak the test set into training.
# - Least squares for a line: $w = \sum(x-\bar x)(y-\bar y)/\sum(x-\bar x)^2$,
#   $b = \bar y - w\bar x$. For many features, solve the normal equation with a column of
#   ones and `lstsq`, never with an explicit inverse. That is *linear* regression.
# - Logistic regression is a classifier: $p = \sigma(Xw+b)$, binary cross-entropy, and
#   gradient $\frac1N X^\top(p-y)$. Softmax regression is the $C$-class version:
#   $\frac1N X^\top(P-Y)$.
# - Mini-batch training: one generator from the seed, a fresh permutation every epoch,
#   every batch (the last, smaller one too) one step, and the loss on the whole training
#   set after each epoch.
# - Underfitting: both errors high. Overfitting: training error low, validation error
#   rising. The validation curve picks the model's capacity.
# - Ridge regression penalises $\lambda\|w\|^2$ but not $b$:
#   $(X_c^\top X_c + n\lambda I)w = X_c^\top y_c$. Choose $\lambda$ by the plain mean of
#   the fold MSEs, standardising inside each fold with its training part's statistics;
#   ties go to the largest $\lambda$.
