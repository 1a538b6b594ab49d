"""A review: the Session everything takes, parsing targets, the review document."""
