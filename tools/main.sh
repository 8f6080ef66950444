#!/usr/bin/env bash
# The main job: train the teacher, distill the student and report on the real
# UNSW-NB15 data. Extra arguments go to `sklearn-2dbm run`.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

sklearn-2dbm run --dataset unsw-nb15 --preset readme --output runs/readme "$@"
