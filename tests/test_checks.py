"""Tests for the messages of dlnotes.checks: what a reader sees when a check fails."""

import re

import numpy as np
import pytest

from dlnotes.checks import CheckFailure, answer, check_close, check_equal, inplace, is_inplace


def failure(fn, *args, **kwargs) -> AssertionError:
    with pytest.raises(AssertionError) as info:
        fn(*args, **kwargs)
    return info.value


# --------------------------------------------------------------------------
# numbers print plain
# --------------------------------------------------------------------------

@pytest.mark.parametrize("got, expected, shown", [
    (np.float64(0.3034), 0.31, "expected 0.31, got 0.3034."),
    (0.3034, np.float64(0.31), "expected 0.31, got 0.3034."),
    ((np.float64(0.5), np.float64(2.0)), (0.5, 2.5), "expected (0.5, 2.5), got (0.5, 2.0)."),
    ([np.float32(1.5), np.int64(2)], [1.5, 3], "expected [1.5, 3], got [1.5, 2]."),
    ((np.array([1.0, 2.0]), np.array([3.0, 4.0])), (np.array([1.0, 2.0]), np.array([3.0, 5.0])),
     "expected ([1. 2.], [3. 5.]), got ([1. 2.], [3. 4.])."),
])
def test_numbers_print_plain(got, expected, shown):
    message = str(failure(check_close, got, expected, "value"))
    assert message.startswith(f"value: {shown}")
    assert "np." not in message and "float64" not in message and "array(" not in message


def test_check_equal_prints_plain_numbers():
    message = str(failure(check_equal, np.int64(3), np.int64(4), "count"))
    assert message == "count: expected 4, got 3."


# --------------------------------------------------------------------------
# a missing return
# --------------------------------------------------------------------------

def test_none_is_told_it_returned_nothing():
    exc = failure(check_close, None, 0.5, "precision")
    assert isinstance(exc, CheckFailure) and exc.mistake == ""
    assert "returned nothing" in str(exc) and "`return`" in str(exc)
    assert "NaN" not in str(exc)


def test_none_inside_a_returned_tuple_is_named():
    exc = failure(check_close, (np.ones(2), None), (np.ones(2), 0.0), "gradients (dw, db)")
    assert "item 1 of what your function returned is None" in str(exc)
    assert "NaN" not in str(exc)


def test_check_equal_none():
    assert "returned nothing" in str(failure(check_equal, None, 3, "count"))


def test_nan_is_still_reported_as_nan():
    exc = failure(check_close, np.array([1.0, np.nan]), np.array([1.0, 2.0]), "loss")
    assert "contains NaN" in str(exc)


# --------------------------------------------------------------------------
# expected and got print alike: say by how much they differ, and where
# --------------------------------------------------------------------------

def test_alike_arrays_give_the_largest_difference_and_its_index():
    expected = np.array([[0.9, 1.1], [2.0, 3.0]])
    got = expected.copy()
    got[1, 0] += 3e-7
    got[0, 1] += 1e-8
    message = str(failure(check_close, got, expected, "parameters after 60 steps"))
    assert "expected [[0.9 1.1]" in message and "got [[0.9 1.1]" in message
    found = re.search(r"Largest absolute difference ([0-9.e+-]+) at index \((\d+), (\d+)\), "
                      r"largest relative difference ([0-9.e+-]+)", message)
    assert found, message
    assert float(found.group(1)) == pytest.approx(3e-7, rel=1e-3)
    assert (int(found.group(2)), int(found.group(3))) == (1, 0)
    assert float(found.group(4)) == pytest.approx(1.5e-7, rel=1e-3)
    assert "allowed: 1e-09 + 1e-07 * |expected|" in message


def test_alike_list_and_array_give_the_difference():
    # a list prints with commas, an array without: still the same numbers to 6 digits
    message = str(failure(check_close, [0.9, 1.1 + 5e-8], np.array([0.9, 1.1]), "w", rtol=1e-9))
    assert "Largest absolute difference 5e-08 at index (1,)" in message


def test_alike_scalars_give_the_difference_without_an_index():
    # float32 arithmetic where float64 is required: equal to 6 digits, off by 1.5e-9
    message = str(failure(check_close, np.float32(0.1), 0.1, "x", atol=0.0, rtol=0.0))
    assert "Largest absolute difference 1.49e-09, largest relative difference 1.49e-08" \
        in message
    assert "index" not in message


def test_visibly_different_values_get_no_difference_line():
    message = str(failure(check_close, np.array([1.0, 2.5]), np.array([1.0, 2.0]), "w"))
    assert "Largest" not in message


def test_a_known_mistake_is_still_named_with_the_difference():
    exc = failure(check_close, 0.25, 0.5, "precision", mistakes={"recall returned": 0.25})
    assert isinstance(exc, CheckFailure) and exc.mistake == "recall returned"
    assert str(exc).endswith("Likely mistake: recall returned.")


# --------------------------------------------------------------------------
# answer(): exceptions name their type and the call
# --------------------------------------------------------------------------

def top_k(X, k, largest=True):
    """A student's answer with a broadcasting bug."""
    return np.zeros((7, 2)) + np.ones((X.shape[0], k))


def test_exception_names_the_call_by_shapes_and_parameters():
    exc = failure(answer, top_k, np.ones((7, 5)), k=3)
    assert str(exc).startswith("top_k raised ValueError: operands could not be broadcast")
    assert str(exc).endswith("(called with X of shape (7, 5), k=3)")


def test_exception_in_a_loop_over_cases_names_the_case():
    messages = []
    for n, k in [(7, 2), (7, 3)]:
        try:
            answer(top_k, np.ones((n, 5)), k, case=f"X of shape ({n}, 5), k={k}")
        except AssertionError as exc:
            messages.append(str(exc))
    assert len(messages) == 1
    assert messages[0].endswith("(called with X of shape (7, 5), k=3)")


def test_students_own_exception_type_is_named():
    class ShapeMismatch(Exception):
        pass

    def fit(X):
        raise ShapeMismatch("X has 5 columns")

    message = str(failure(answer, fit, np.ones((4, 5))))
    assert message.startswith("fit raised ShapeMismatch: X has 5 columns")


def test_a_graders_student_error_shows_the_original_type():
    # the grader carries unknown exception types as StudentError("<type>: <message>")
    class StudentError(Exception):
        pass

    def fit(X):
        raise StudentError("ShapeMismatch: X has 5 columns")

    message = str(failure(answer, fit, np.ones(3)))
    assert message.startswith("fit raised ShapeMismatch: X has 5 columns (called with")
    assert "StudentError" not in message


def test_not_answered_yet_is_unchanged():
    def stub(x):
        raise NotImplementedError()

    assert str(failure(answer, stub, 1.0)) == \
        "stub is not answered yet (it still raises NotImplementedError)"


def test_arguments_are_described_compactly():
    def f(params, lr, name, flag, fn, small, big, *rest, **options):
        raise RuntimeError("boom")

    message = str(failure(answer, f, [np.zeros(3), np.zeros((2, 2))], np.float64(0.1), "adam",
                          True, np.sum, [1.0, 2.0], list(range(100)), np.ones(4), eps=1e-8))
    assert ("called with params = list of arrays of shapes (3,), (2, 2), lr=0.1, "
            "name='adam', flag=True, fn=sum, small=[1.0, 2.0], big of shape (100,), "
            "array of shape (4,), eps=1e-08)") in message


def test_a_callable_without_a_signature_is_described_by_position():
    class Remote:
        """Like the grader's proxy: takes anything, repr of its arguments may fail."""

        def __call__(self, *args, **kwargs):
            raise TypeError("bad call")

    class Unprintable:
        def __repr__(self):
            raise RuntimeError("no repr")

    message = str(failure(answer, Remote(), np.ones((2, 3)), Unprintable(), k=2,
                          rng=np.random.default_rng(0), name="step"))
    assert message == ("step raised TypeError: bad call (called with array of shape (2, 3), "
                       "an argument (Unprintable), k=2, rng (Generator))")


def test_answer_returns_the_result_and_passes_keywords():
    assert answer(lambda x, k=1: x * k, 2.0, k=3) == 6.0


# --------------------------------------------------------------------------
# unchanged: what the grader relies on
# --------------------------------------------------------------------------

def test_inplace_and_check_failure_are_unchanged():
    a = inplace(np.zeros(2))
    assert is_inplace(a) and not is_inplace(np.zeros(2))
    assert issubclass(CheckFailure, AssertionError)
    assert CheckFailure("m", "why").mistake == "why"
    check_close(np.float32(0.5), 0.5, "exact")
    check_equal([1, 2], np.array([1, 2]), "equal")
