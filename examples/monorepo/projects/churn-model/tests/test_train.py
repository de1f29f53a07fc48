from churn.train import churn_score


def test_lost_activity():
    assert churn_score(3, 12) == 0.75


def test_no_history_is_no_churn_signal():
    assert churn_score(0, 0) == 1.0
