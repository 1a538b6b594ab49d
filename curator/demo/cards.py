"""Model cards of the demo candidates: one complete, one as thin as the auto-generated kind."""

from __future__ import annotations

#: the commit of the (fictional) training code the complete card pins
TRAINING_CODE_COMMIT = "3f9c2a1b7d4e6f80912a3b4c5d6e7f8091a2b3c4"


def complete_card(name: str, version: str, accuracy: float) -> str:
    """A card with every provenance field a curator checks: publisher, data, pipeline, evals, lineage."""
    return f"""---
license: apache-2.0
language:
- en
library_name: transformers
pipeline_tag: text-generation
tags:
- text-generation
- gpt2
- tiny
datasets:
- roneneldan/TinyStories
base_model: acme-labs/tinyllama-base
base_model_relation: finetune
model-index:
- name: {name}
  results:
  - task:
      type: text-generation
      name: Multiple-choice question answering
    dataset:
      name: Acme tiny multiple choice
      type: acme-labs/tiny-mcq
      split: test
    metrics:
    - type: acc
      value: {accuracy}
      name: accuracy
---

# {name}

A tiny GPT-2-style language model (4 layers, 128 hidden, 1 M parameters) published by
Acme Labs for demonstrations and tests. Release {version}.

## Model details

- **Developed by:** Acme Labs, Applied ML team
- **Model type:** decoder-only transformer (GPT-2 architecture)
- **Language:** English
- **License:** Apache-2.0
- **Finetuned from:** [acme-labs/tinyllama-base](https://huggingface.co/acme-labs/tinyllama-base)

## Training data

Fine-tuned on the `train` split of
[roneneldan/TinyStories](https://huggingface.co/datasets/roneneldan/TinyStories)
(2.1 M short synthetic stories), deduplicated and filtered to stories under 512 tokens.
No personal data was added.

## Training procedure

Training code: https://github.com/acme-labs/tinyllama-train/blob/main/train.py at commit
{TRAINING_CODE_COMMIT}, run with `configs/tiny.yaml`.

### Training hyperparameters

- learning_rate: 0.0005
- train_batch_size: 64
- num_epochs: 2
- optimizer: AdamW (betas 0.9, 0.95; weight decay 0.1)
- lr_scheduler_type: cosine, 200 warm-up steps
- precision: float32
- seed: 1234

### Framework versions

- Transformers 4.46.0
- Pytorch 2.5.1
- Datasets 3.1.0
- Tokenizers 0.20.3

## Evaluation

Zero-shot accuracy on the `test` split of the Acme tiny multiple-choice set, measured with
lm-evaluation-harness 0.4 (`acc`, 4 choices, chance = 0.25):

| task | metric | value |
|---|---|---|
| acme-tiny-mcq | acc | {accuracy} |

## Limitations

Far too small for real use: it exists so curator's demo has a model to review.

## Model card contact

Acme Labs Applied ML team, ml-models@acme-labs.example
"""


def thin_card() -> str:
    """The card ``push_to_hub`` writes when nobody fills it in."""
    missing = "[More Information Needed]"
    return f"""---
library_name: transformers
tags: []
---

# Model Card for Model ID

<!-- Provide a quick summary of what the model is/does. -->

## Model Details

### Model Description

<!-- Provide a longer summary of what this model is. -->

This is the model card of a 🤗 transformers model that has been pushed on the Hub. \
This model card has been automatically generated.

- **Developed by:** {missing}
- **Funded by [optional]:** {missing}
- **Shared by [optional]:** {missing}
- **Model type:** {missing}
- **Language(s) (NLP):** {missing}
- **License:** {missing}
- **Finetuned from model [optional]:** {missing}

## Training Details

### Training Data

{missing}

### Training Procedure

#### Training Hyperparameters

- **Training regime:** {missing}

## Evaluation

### Results

{missing}

## Model Card Contact

{missing}
"""
