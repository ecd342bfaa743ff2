"""Converters: files of exactly each released layout for the tiny T5, imported and checked against hand-computed outputs."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from peft import LoraConfig, get_peft_model

from glider.errors import LibraryError
from glider.library.convert import BackboneLayout, GliderCheckpoints, PeftAdapters, PhatgooseCheckpoint
from glider.library.expert import Expert
from glider.library.library import ExpertLibrary
from glider.moe.inject import module_shapes
from glider.moe.routed_model import RoutedSeq2Seq
from glider.routers import build_router
from glider.routers.base import QueryBatch
from tests.conftest import tiny_t5_config

RANK = 4
CHECKED = ["encoder.block.0.layer.0.SelfAttention.q", "encoder.block.1.layer.1.DenseReluDense.wi_0",
           "encoder.block.1.layer.1.DenseReluDense.wi_1", "decoder.block.0.layer.1.EncDecAttention.v", "decoder.block.1.layer.2.DenseReluDense.wo"]
INPUT = torch.tensor([[5, 6, 7, 8, 1], [9, 10, 11, 1, 0]])
LABELS = torch.tensor([[12, 13, 1], [14, 1, 0]])


def layout(model: torch.nn.Module, shapes: dict | None = None) -> BackboneLayout:
    """What the import stage checks files against: the targeted layers and every weight name of the backbone."""
    return BackboneLayout(shapes=shapes or module_shapes(model), weights=frozenset(model.state_dict()))


def _random(shape: tuple[int, ...], g: torch.Generator) -> torch.Tensor:
    return torch.randn(*shape, generator=g) * 0.3


def oracle_output(model: torch.nn.Module, expert: Expert, module: str, x: torch.Tensor) -> torch.Tensor:
    """Our routed layer for ``module`` with weight 1 on the expert (oracle router)."""
    routed = RoutedSeq2Seq(copy.deepcopy(model), build_router("oracle", global_scorers=["oracle"], top_k=1), [expert]).eval()
    layer = routed.model.get_submodule(module)
    with torch.no_grad(), routed.batch(QueryBatch(tasks=[expert.task] * x.shape[0]), batch_size=x.shape[0]):
        return layer(x)


def hand_output(model: torch.nn.Module, module: str, x: torch.Tensor, A: torch.Tensor, B: torch.Tensor, scale: float) -> torch.Tensor:
    """W x + s B A x."""
    W = model.get_submodule(module).weight
    return x @ W.T + scale * (x @ A.T @ B.T)


# ------------------------------------------------------------------ released GLIDER experts
def write_glider_file(path: Path, model: torch.nn.Module, seed: int, shapes: dict | None = None) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    state = {"base_model.model.shared.weight": model.shared.weight.detach().clone()}  # released files carry backbone weights too
    for m, (d_out, d_in) in (shapes or module_shapes(model)).items():
        state[f"base_model.model.{m}.lora_A.default.weight"] = _random((RANK, d_in), g)
        state[f"base_model.model.{m}.lora_B.default.weight"] = _random((d_out, RANK), g)
        state[f"base_model.model.{m}.lora_gate.default"] = _random((d_in,), g)
    torch.save(state, path)
    return state


def test_glider_best_pt_files(tiny_t5, tmp_path: Path) -> None:
    states = {task: write_glider_file(tmp_path / f"{task}_best.pt", tiny_t5, seed=i) for i, task in enumerate(["p3agnews", "p3imdb"])}
    importer = GliderCheckpoints(tmp_path, layout(tiny_t5))
    plan = importer.plan()
    assert [i.task for i in plan] == ["p3agnews", "p3imdb"]
    expert = importer.load(plan[0])
    state = states["p3agnews"]
    assert expert.rank == RANK and expert.scale == pytest.approx(1 / RANK) and set(expert.lora_A) == set(module_shapes(tiny_t5))
    x = torch.randn(2, 3, 16)
    for module in CHECKED:
        prefix = f"base_model.model.{module}"
        torch.testing.assert_close(expert.gates[module], state[f"{prefix}.lora_gate.default"])
        d_in = tiny_t5.get_submodule(module).in_features
        x = torch.randn(2, 3, d_in)
        want = hand_output(tiny_t5, module, x, state[f"{prefix}.lora_A.default.weight"], state[f"{prefix}.lora_B.default.weight"], 1 / RANK)
        torch.testing.assert_close(oracle_output(tiny_t5, expert, module, x), want, rtol=1e-5, atol=1e-5)
    assert [i.task for i in GliderCheckpoints(tmp_path, layout(tiny_t5), tasks=["p3imdb"]).plan()] == ["p3imdb"]


# ------------------------------------------------------------------ released Phatgoose checkpoints
def write_phatgoose_file(path: Path, model: torch.nn.Module, n: int, shapes: dict | None = None) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(7)
    state = {"encoder.embed_tokens.weight": model.shared.weight.detach().clone()}
    for m, (d_out, d_in) in (shapes or module_shapes(model)).items():
        for i in range(n):
            state[f"{m}._addons.expert_lora.layer1__{i}"] = _random((d_in, RANK), g)
            state[f"{m}._addons.expert_lora.layer2__{i}"] = _random((RANK, d_out), g)
            state[f"{m}._addons.router.expert_embeddings__{i}"] = _random((d_in,), g)
    torch.save(state, path)
    return state


def test_phatgoose_concatenated_checkpoint(tiny_t5, tmp_path: Path) -> None:
    state = write_phatgoose_file(tmp_path / "phatgoose.pt", tiny_t5, n=3)
    tasks = ["p3agnews", "p3imdb", "p3yelp"]
    importer = PhatgooseCheckpoint(tmp_path / "phatgoose.pt", layout(tiny_t5), tasks=tasks)
    plan = importer.plan()
    assert [(i.task, i.index) for i in plan] == [(t, n) for n, t in enumerate(tasks)]
    for item in plan[1:]:
        expert = importer.load(item)
        i = item.index
        assert expert.task == tasks[i] and expert.scale == pytest.approx(1 / RANK)
        for module in CHECKED:
            d_in = tiny_t5.get_submodule(module).in_features
            x = torch.randn(2, 3, d_in)
            A = state[f"{module}._addons.expert_lora.layer1__{i}"].T
            B = state[f"{module}._addons.expert_lora.layer2__{i}"].T
            torch.testing.assert_close(oracle_output(tiny_t5, expert, module, x), hand_output(tiny_t5, module, x, A, B, 1 / RANK), rtol=1e-5, atol=1e-5)
            torch.testing.assert_close(expert.gates[module], state[f"{module}._addons.router.expert_embeddings__{i}"])
    with pytest.raises(LibraryError, match="holds 3 experts but library.import_.tasks names 2"):
        wrong = PhatgooseCheckpoint(tmp_path / "phatgoose.pt", layout(tiny_t5), tasks=tasks[:2])
        wrong.load(wrong.plan()[0])
    with pytest.raises(LibraryError, match="library.import_.tasks"):
        PhatgooseCheckpoint(tmp_path / "phatgoose.pt", layout(tiny_t5), tasks=None)


# ------------------------------------------------------------------ PEFT adapter directories
def _peft_adapter(model: torch.nn.Module, directory: Path, seed: int, **lora: object) -> torch.nn.Module:
    torch.manual_seed(seed)
    config = LoraConfig(r=RANK, lora_alpha=8, target_modules=["q", "k", "v", "o", "wi_0", "wi_1", "wo"], task_type="SEQ_2_SEQ_LM", **lora)
    peft_model = get_peft_model(copy.deepcopy(model), config)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.3)  # PEFT initialises B to zero
    peft_model.save_pretrained(str(directory))
    return peft_model.eval()


@pytest.mark.parametrize("lora", [{}, {"rank_pattern": {"wo": 2}, "alpha_pattern": {"q": 2}}, {"use_rslora": True}])
def test_peft_adapter_matches_peft_itself(tiny_t5, tmp_path: Path, lora: dict) -> None:
    peft_model = _peft_adapter(tiny_t5, tmp_path / "adapters" / "p3agnews", seed=1, **lora)
    if not lora:  # a folder of adapters: one expert per sub-folder
        _peft_adapter(tiny_t5, tmp_path / "adapters" / "p3imdb", seed=2)
    importer = PeftAdapters(tmp_path / "adapters", layout(tiny_t5))
    plan = importer.plan()
    assert [i.name for i in plan] == ["p3agnews", "p3imdb"][: 1 if lora else 2]
    expert = importer.load(plan[0])
    assert {"encoder.block.0.layer.1.DenseReluDense.wi_0", "encoder.block.0.layer.1.DenseReluDense.wi_1"} <= set(expert.lora_A)
    routed = RoutedSeq2Seq(copy.deepcopy(tiny_t5), build_router("oracle", global_scorers=["oracle"], top_k=1), [expert]).eval()
    with torch.no_grad(), routed.batch(QueryBatch(tasks=["p3agnews"] * 2), batch_size=2):
        ours = routed(input_ids=INPUT, attention_mask=(INPUT != 0).long(), labels=LABELS).logits
    with torch.no_grad():
        theirs = peft_model(input_ids=INPUT, attention_mask=(INPUT != 0).long(), labels=LABELS).logits
        bare = tiny_t5(input_ids=INPUT, attention_mask=(INPUT != 0).long(), labels=LABELS).logits
    assert (theirs - bare).abs().max() > 1e-2
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=3e-4)  # float32 noise grows with the LoRA scale
    # a single adapter folder works too, and the library round-trip keeps the maths
    single = PeftAdapters(tmp_path / "adapters" / "p3agnews", layout(tiny_t5))
    assert [i.name for i in single.plan()] == ["p3agnews"]
    library = ExpertLibrary.open_or_create(tmp_path / "lib", {"id": "tiny", "fingerprint": "x"}, ["q"])
    library.add(expert)
    again = library.load("p3agnews")
    module = CHECKED[1]
    torch.testing.assert_close(again.scale * again.lora_B[module] @ again.lora_A[module], expert.scale * expert.lora_B[module] @ expert.lora_A[module])


# ------------------------------------------------------------------ checkpoints of another backbone
@pytest.fixture
def bigger_shapes() -> dict:
    from transformers import T5ForConditionalGeneration

    config = tiny_t5_config()
    config.d_model, config.d_ff = 32, 48
    return module_shapes(T5ForConditionalGeneration(config))


def test_mismatch_names_the_first_key_and_shapes(tiny_t5, tmp_path: Path, bigger_shapes: dict) -> None:
    (tmp_path / "g").mkdir()
    write_glider_file(tmp_path / "g" / "p3agnews_best.pt", tiny_t5, 0, bigger_shapes)
    importer = GliderCheckpoints(tmp_path / "g", layout(tiny_t5))
    with pytest.raises(LibraryError) as err:
        importer.load(importer.plan()[0])
    first = next(iter(bigger_shapes))
    assert f"key 'base_model.model.{first}.lora_A.default.weight' has shape ({RANK}, 32)" in str(err.value)
    assert f"needs ({RANK}, 16)" in str(err.value) and "model=" in str(err.value)

    write_phatgoose_file(tmp_path / "p.pt", tiny_t5, 2, bigger_shapes)
    importer = PhatgooseCheckpoint(tmp_path / "p.pt", layout(tiny_t5), tasks=["a", "b"])
    with pytest.raises(LibraryError, match=rf"key '{first}\._addons\.expert_lora\.layer1__0' has shape \(32, {RANK}\)"):
        importer.load(importer.plan()[0])

    state = {"base_model.model.encoder.block.9.layer.0.SelfAttention.q.lora_A.default.weight": torch.zeros(RANK, 16)}
    (tmp_path / "u").mkdir()
    torch.save(state, tmp_path / "u" / "x_best.pt")
    importer = GliderCheckpoints(tmp_path / "u", layout(tiny_t5))
    with pytest.raises(LibraryError, match=r"module 'base_model\.model\.encoder\.block\.9.*does not\s+have"):
        importer.load(importer.plan()[0])


def test_damaged_or_missing_files(tmp_path: Path, tiny_t5) -> None:
    (tmp_path / "bad_best.pt").write_bytes(b"not a checkpoint")
    importer = GliderCheckpoints(tmp_path, layout(tiny_t5))
    with pytest.raises(LibraryError, match="Cannot read checkpoint"):
        importer.load(importer.plan()[0])
    with pytest.raises(LibraryError, match="does not exist"):
        GliderCheckpoints(tmp_path / "nope", layout(tiny_t5)).plan()
    with pytest.raises(LibraryError, match="no PEFT adapter"):
        PeftAdapters(tmp_path, layout(tiny_t5)).plan()


def test_peft_adapter_of_another_backbone(tmp_path: Path, bigger_shapes: dict, tiny_t5) -> None:
    from transformers import T5ForConditionalGeneration

    config = tiny_t5_config()
    config.d_model, config.d_ff = 32, 48
    _peft_adapter(T5ForConditionalGeneration(config), tmp_path / "big", seed=0)
    importer = PeftAdapters(tmp_path / "big", layout(tiny_t5))
    from safetensors import safe_open

    with safe_open(str(tmp_path / "big" / "adapter_model.safetensors"), "pt") as f:
        first = next(k for k in f.keys() if "lora_" in k)  # the file's own key order
    with pytest.raises(LibraryError, match=rf"key '{first}' has shape \((4, 32|48, 4|32, 4)\) but .* needs"):
        importer.load(importer.plan()[0])


# ------------------------------------------------------------------ released Arrow prototypes (p3-lora-checkpoints-arrow)
def test_arrow_release_routes_with_the_released_prototypes_as_they_are(tiny_t5, tmp_path: Path) -> None:
    from tests.library.release_files import write_arrow_release

    tasks = ["p3agnews", "p3imdb", "p3yelp"]
    write_arrow_release(tmp_path / "arrow", module_shapes(tiny_t5), tasks)
    importer = GliderCheckpoints(tmp_path / "arrow", layout(tiny_t5), lora_gate="arrow")
    experts = [importer.load(item) for item in importer.plan()]
    states = {t: torch.load(tmp_path / "arrow" / f"{t}_best.pt", weights_only=True) for t in tasks}
    assert all(not e.gates and set(e.prototypes) == set(module_shapes(tiny_t5)) for e in experts)
    routed = RoutedSeq2Seq(copy.deepcopy(tiny_t5), build_router("arrow", local=["arrow"], top_k=2), experts).eval()
    for module in CHECKED:
        prefix = f"base_model.model.{module}"
        g = torch.stack([states[t][f"{prefix}.lora_gate.default"] for t in tasks])  # [N, d_in] as released
        layer = routed.model.get_submodule(module)
        x = torch.randn(2, 5, layer.base.in_features)
        with torch.no_grad(), routed.batch(QueryBatch(tasks=["p3agnews"] * 2), batch_size=2):
            got = layer(x)
        logits = (x @ g.T).abs() / 10  # the original Arrow logit |x . g| / 10, no layer norm
        p = logits.softmax(-1)
        top = p.topk(2, dim=-1)
        w = top.values / (top.values.sum(-1, keepdim=True) + 1e-6)
        want = x @ tiny_t5.get_submodule(module).weight.T
        for slot in range(2):
            for i, t in enumerate(tasks):
                A, B = states[t][f"{prefix}.lora_A.default.weight"], states[t][f"{prefix}.lora_B.default.weight"]
                chosen = (top.indices[..., slot] == i).unsqueeze(-1)
                want = want + chosen * w[..., slot : slot + 1] * (1 / RANK) * (x @ A.T @ B.T)
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    with pytest.raises(LibraryError, match="lora_gate must be one of"):
        GliderCheckpoints(tmp_path / "arrow", layout(tiny_t5), lora_gate="cosine")


# ------------------------------------------------------------------ the merged-experts checkpoint (phatgoose-checkpoints)
def test_merged_experts_release_is_one_delta_with_router_merged(tiny_t5, tmp_path: Path) -> None:
    from tests.library.release_files import write_merged_release

    folder = write_merged_release(tmp_path / "phatgoose-checkpoints" / "P3_MergedExperts", module_shapes(tiny_t5), rank=8)
    state = torch.load(folder / "best.pt", weights_only=True)
    importer = PhatgooseCheckpoint(folder, layout(tiny_t5), tasks=["merged_experts"])  # the released folder, as cloned
    (expert,) = [importer.load(item) for item in importer.plan()]
    assert expert.rank == 8 and expert.scale == pytest.approx(1 / 8)
    routed = RoutedSeq2Seq(copy.deepcopy(tiny_t5), build_router("merged", mode="merged"), [expert]).eval()
    for module in CHECKED:
        layer = routed.model.get_submodule(module)
        x = torch.randn(2, 3, layer.base.in_features)
        with torch.no_grad(), routed.batch(QueryBatch(tasks=["p3agnews"] * 2), batch_size=2):
            got = layer(x)
        A, B = state[f"{module}._addons.expert_lora.layer1__0"].T, state[f"{module}._addons.expert_lora.layer2__0"].T
        torch.testing.assert_close(got, hand_output(tiny_t5, module, x, A, B, 1 / 8), rtol=1e-5, atol=1e-5)  # Phatgoose: / d_bottleneck
    with pytest.raises(LibraryError, match="holds 1 experts but library.import_.tasks names 2"):
        two = PhatgooseCheckpoint(folder, layout(tiny_t5), tasks=["a", "b"])
        two.load(two.plan()[0])
    with pytest.raises(LibraryError, match="folder without best.pt"):
        PhatgooseCheckpoint(tmp_path, layout(tiny_t5), tasks=["merged_experts"]).plan()


# ------------------------------------------------------------------ files that are not what they claim
def test_unexpected_keys_and_non_tensor_files_are_refused(tiny_t5, tmp_path: Path) -> None:
    state = write_glider_file(tmp_path / "p3agnews_best.pt", tiny_t5, seed=0)
    state["base_model.model.encoder.block.0.layer.0.SelfAttention.q.base_layer.weight"] = torch.zeros(16, 16)  # a backbone copy: fine
    torch.save(state, tmp_path / "p3agnews_best.pt")
    importer = GliderCheckpoints(tmp_path, layout(tiny_t5))
    importer.load(importer.plan()[0])
    state["base_model.model.encoder.block.0.layer.0.SelfAttention.q.lora_B.default.bias"] = torch.zeros(16)  # lora_bias
    torch.save(state, tmp_path / "p3agnews_best.pt")
    with pytest.raises(LibraryError, match=r"unexpected key '.*lora_B\.default\.bias'.*Nothing was imported"):
        importer.load(importer.plan()[0])
    torch.save([torch.zeros(2)], tmp_path / "p3agnews_best.pt")
    with pytest.raises(LibraryError, match="holds a list, not a state dict of tensors"):
        importer.load(importer.plan()[0])
    torch.save({"base_model.model.shared.weight": torch.zeros(2), "step": 3}, tmp_path / "p3agnews_best.pt")
    with pytest.raises(LibraryError, match="entry 'step' is a int"):
        importer.load(importer.plan()[0])
    pg = write_phatgoose_file(tmp_path / "pg.pt", tiny_t5, n=1)
    pg["encoder.block.0.layer.0.SelfAttention.q._addons.router.temperature__0"] = torch.ones(1)
    torch.save(pg, tmp_path / "pg.pt")
    with pytest.raises(LibraryError, match=r"unexpected key '.*router\.temperature__0'"):
        one = PhatgooseCheckpoint(tmp_path / "pg.pt", layout(tiny_t5), tasks=["x"])
        one.load(one.plan()[0])


# ------------------------------------------------------------------ PEFT options the routed layer cannot reproduce
@pytest.mark.parametrize("lora,fragment", [
    ({"lora_bias": True}, "lora_bias=True"),
    ({"modules_to_save": ["lm_head"]}, "modules_to_save=['lm_head']"),
    ({"layers_to_transform": [0], "layers_pattern": "block"}, "layers_to_transform=[0]"),
    ({"trainable_token_indices": [3, 4]}, "trainable_token_indices=[3, 4]"),
    ({"bias": "lora_only"}, "bias='lora_only'"),
    ({"use_dora": True}, "use_dora=True"),
])
def test_peft_options_the_routed_layer_cannot_reproduce_are_refused(tiny_t5, tmp_path: Path, lora: dict, fragment: str) -> None:
    _peft_adapter(tiny_t5, tmp_path / "p3agnews", seed=3, **lora)
    importer = PeftAdapters(tmp_path / "p3agnews", layout(tiny_t5))
    with pytest.raises(LibraryError, match="routed LoRA layer") as err:
        importer.load(importer.plan()[0])
    assert fragment in str(err.value) and "Nothing was imported" in str(err.value)


def test_peft_unknown_or_base_changing_options_are_refused(tiny_t5, tmp_path: Path) -> None:
    import json

    _peft_adapter(tiny_t5, tmp_path / "a", seed=4)
    config_path = tmp_path / "a" / "adapter_config.json"
    config = json.loads(config_path.read_text())
    config_path.write_text(json.dumps({**config, "init_lora_weights": "pissa"}))
    with pytest.raises(LibraryError, match="init_lora_weights='pissa', which rewrites the base weights"):
        PeftAdapters(tmp_path / "a", layout(tiny_t5)).load(PeftAdapters(tmp_path / "a", layout(tiny_t5)).plan()[0])
    config_path.write_text(json.dumps({**config, "use_future_trick": True, "some_unset_option": None}))
    with pytest.raises(LibraryError, match="option use_future_trick=True, which glider does not know"):
        PeftAdapters(tmp_path / "a", layout(tiny_t5)).load(PeftAdapters(tmp_path / "a", layout(tiny_t5)).plan()[0])


def test_a_single_adapter_takes_the_task_name_given(tiny_t5, tmp_path: Path) -> None:
    _peft_adapter(tiny_t5, tmp_path / "checkpoint-500", seed=5)
    importer = PeftAdapters(tmp_path / "checkpoint-500", layout(tiny_t5), tasks=["p3agnews"])
    (item,) = importer.plan()
    assert (item.name, item.task) == ("p3agnews", "p3agnews") and importer.load(item).task == "p3agnews"
    with pytest.raises(LibraryError, match="is one adapter but library.import_.tasks names 2"):
        PeftAdapters(tmp_path / "checkpoint-500", layout(tiny_t5), tasks=["a", "b"]).plan()
