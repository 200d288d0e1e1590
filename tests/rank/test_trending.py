import math

import pytest

from paperwire.rank.trending import trending_score


@pytest.mark.parametrize("age", [0.0, 1.0, 24.0, 24.0 * 30])
@pytest.mark.parametrize("votes", [0, 1, 10, 500])
def test_more_votes_score_higher(votes, age):
    assert trending_score(votes + 1, 0, age) > trending_score(votes, 0, age)


@pytest.mark.parametrize("votes", [0, 3, 100])
@pytest.mark.parametrize("age", [0.0, 2.0, 12.0, 72.0, 1000.0])
def test_score_decays_with_age(votes, age):
    assert trending_score(votes, 2, age + 1.0) < trending_score(votes, 2, age)


@pytest.mark.parametrize("comments", [0, 1, 40])
def test_comments_count_but_less_than_votes(comments):
    base = trending_score(5, comments, 10.0)
    assert trending_score(5, comments + 1, 10.0) > base
    assert trending_score(6, comments, 10.0) > trending_score(5, comments + 1, 10.0)


@pytest.mark.parametrize("age", [6.0, 48.0])
def test_higher_gravity_decays_faster(age):
    young, old = 1.0, age
    ratio_low = trending_score(10, 0, old, gravity=1.2) / trending_score(10, 0, young, gravity=1.2)
    ratio_high = trending_score(10, 0, old, gravity=2.5) / trending_score(10, 0, young, gravity=2.5)
    assert ratio_high < ratio_low


def test_fresh_paper_with_few_votes_beats_old_paper_with_many():
    assert trending_score(5, 0, 1.0) > trending_score(50, 0, 24.0 * 7)


def test_old_paper_with_many_votes_beats_fresh_unvoted_one_of_same_day():
    assert trending_score(100, 0, 20.0) > trending_score(0, 0, 1.0)


@pytest.mark.parametrize(
    "votes,comments,age",
    [(-5, 0, 1.0), (0, -3, 1.0), (0, 0, -10.0), (0, 0, math.nan), (0, 0, math.inf)],
)
def test_bad_inputs_are_clamped_to_a_finite_positive_score(votes, comments, age):
    score = trending_score(votes, comments, age)
    assert math.isfinite(score) and score > 0
    assert score <= trending_score(0, 0, 0.0)


@pytest.mark.parametrize("gravity", [0, -1.0, math.nan])
def test_bad_gravity_is_rejected(gravity):
    with pytest.raises(ValueError, match="gravity"):
        trending_score(1, 0, 1.0, gravity=gravity)


def test_known_value():
    # (1 + 10 + 0.5*4) / (22 + 2) ** 1.8
    assert trending_score(10, 4, 22.0) == pytest.approx(13.0 / 24.0**1.8)
