"""scikit-learn's estimator checks over both classifiers."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_2dbm import BiLSTMTeacherClassifier, DistilledStudentClassifier

# Small, fast settings that still learn the checks' easy datasets.
FAST = dict(
    hidden_size=4,
    max_epochs=4,
    batch_size=32,
    learning_rate=0.05,
    early_stopping=False,
    n_threads=1,
)

ESTIMATORS = [
    BiLSTMTeacherClassifier(**FAST),
    DistilledStudentClassifier(BiLSTMTeacherClassifier(**FAST), **FAST),
]

# Every check expected to fail (check name -> reason), shared by both
# estimators. Empty: with the settings above every check passes, including
# the accuracy thresholds of check_classifiers_train and the idempotency and
# pickling checks (a seeded student also seeds an unseeded teacher).
EXPECTED_FAILED_CHECKS = {}


@parametrize_with_checks(
    ESTIMATORS, expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
