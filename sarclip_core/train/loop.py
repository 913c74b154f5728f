"""The training loop shared by both stages: optimiser, schedule, accumulation, DDP, checkpoints, logs."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import random
import time
from pathlib import Path
from typing import Any

import torch
from timm.utils import ModelEmaV3
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from ..data.datasets import Batch, ChipDataset, EpochBatches, chunks
from ..data.manifest import image_samples, read_manifests
from ..errors import SarclipError
from ..io import Normalisation
from ..model import AnyReader, create_model, load_checkpoint, model_config, model_name, save_checkpoint
from ..model.checkpoint import SARCLIP_FILE
from ..model.dense import feature_map, has_dense_readout
from .clip import ClipStep
from .counts import NEGATIVES, count_loss, wrong_counts
from .dense import DensePrompts
from .distributed import World, gather, mean_over_world
from .losses import contrastive_loss, dense_loss
from .report import RunLog, plot_losses
from .ssl import MaskedImageModel
from .state import MODEL_DIR, TrainState, checkpoints, load_state, resolve_resume, save_state
from .validate import validation_metrics

MAX_LOGIT_SCALE = math.log(100)


class Trainer:
    """One training run of either stage, driven by the parsed flags."""

    def __init__(self, args: argparse.Namespace, world: World):
        self.args, self.world = args, world
        if args.precision == "amp" and world.device.type != "cuda":
            raise SarclipError("--precision amp is float16 autocast with a gradient scaler, for CUDA; "
                               "on CPU use --precision amp_bf16")
        self.run_dir = Path(args.logs) / args.name
        self.log = RunLog(self.run_dir, enabled=world.is_main)
        torch.manual_seed(args.seed)
        if args.threads:
            torch.set_num_threads(args.threads)
        self.model, self.reader, self.config, self.normalisation, self.channels = self._build_model()
        self.problems: list[str] = []
        samples = (image_samples(args.train_data) if args.stage == "ssl"
                   else read_manifests(args.train_data, args.skip_bad, self.problems))
        self.data = ChipDataset(samples, self.normalisation, self.channels, args.shift, args.seed, args.skip_bad,
                                show_progress=world.is_main,
                                crop=self.reader.native_size if args.stage == "ssl" else None,
                                dense=self._dense_grid())
        self.dense = DensePrompts(self.data.dense_classes) if self.data.dense_classes else None
        if self._dense_grid() and self.dense is None:
            raise SarclipError("--dense-weight: no training image has dense truth (D2C --windows records of a source "
                               "with --sealand or water masks, or composed clutter scenes)")
        self.problems += self.data.problems
        self.batches = EpochBatches(len(self.data), args.batch_size * args.accum_freq, args.seed,
                                    world.rank, world.size)
        self.total_steps = len(self.batches) * args.epochs
        if args.max_steps:
            self.total_steps = min(self.total_steps, args.max_steps)
        self.module = self._build_module()
        self.ema = self._build_ema()
        # fused: one kernel over all tensors (CPU and GPU); the per-tensor loop is ~5x slower, 5% of a CPU step
        self.optimizer = torch.optim.AdamW(_param_groups(self.module, args.wd), lr=args.lr, fused=True)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, _cosine(args.warmup, self.total_steps))
        self.scaler = torch.amp.GradScaler(world.device.type) if args.precision == "amp" else None
        self.step = 0
        self._resume()
        self.engine = (DistributedDataParallel(
            self.module, device_ids=[world.device.index] if world.device.type == "cuda" else None,
            find_unused_parameters=args.stage == "clip" and not args.anyreader) if world.distributed else self.module)
        self._train_mode()

    # -- set-up ---------------------------------------------------------------------------------------

    def _build_model(self) -> tuple[nn.Module, AnyReader, dict[str, Any], Normalisation, int]:
        """The model, its reader and config (a checkpoint's own when starting from one: --model is then moot)."""
        args = self.args
        if args.pretrained and (Path(args.pretrained) / SARCLIP_FILE).is_file():
            loaded = load_checkpoint(args.pretrained, self.world.device)
            loaded.reader.enabled = args.anyreader
            return loaded.model.train(), loaded.reader.train(), loaded.config, loaded.normalisation, loaded.channels
        model = create_model(args.model, args.pretrained, device=self.world.device).train()
        reader = AnyReader.for_model(model, enabled=args.anyreader).to(self.world.device).train()
        return model, reader, model_config(model_name(args.model)), Normalisation(domain=args.norm_domain), args.channels

    def _dense_grid(self) -> tuple[int, int] | None:
        """(native size, cells per side) for the dense loss, or None when it is off."""
        if self.args.stage != "clip" or not self.args.dense_weight:
            return None
        visual, size = self.model.visual, self.reader.native_size
        if not has_dense_readout(visual):
            raise SarclipError(f"--dense-weight: the image tower of {model_name(self.args.model)} has no dense readout "
                               "(it needs an attention-pooled ResNet tower)")
        with torch.no_grad():
            side = feature_map(visual, torch.zeros(1, 3, size, size, device=self.world.device)).shape[-1]
        return size, side

    def _build_module(self) -> nn.Module:
        args = self.args
        if args.stage == "ssl":
            return MaskedImageModel(self.reader, self.channels, args.mask_ratio).to(self.world.device)
        if args.lock_text:
            self.model.lock_text_tower()
        if args.lock_image:
            self.model.lock_image_tower()
        return ClipStep(self.model, self.reader)

    def _build_ema(self) -> ModelEmaV3 | None:
        """--model-ema: a moving average of the weights and BatchNorm statistics, validated and shipped instead.

        Warm-up (decay 1 - (1 + step)^-3/4, capped at --model-ema-decay) keeps the random start out of it.
        """
        if not self.args.model_ema:
            return None
        if self.args.stage != "clip":
            raise SarclipError("--model-ema is for --stage clip (stage 1's masked-image model is not shipped)")
        return ModelEmaV3(self.module, decay=self.args.model_ema_decay, use_warmup=True, warmup_power=0.75)

    def _shipped(self) -> tuple[nn.Module, AnyReader]:
        """The weights that are validated and written as the model: the moving average with --model-ema."""
        if self.ema is None:
            return self.model, self.reader
        return self.ema.module.model, self.ema.module.reader

    def _resume(self) -> None:
        if not self.args.resume:
            return
        root = self.run_dir / "checkpoints"
        latest = self.args.resume == "latest"
        candidates = list(reversed(checkpoints(root))) if latest else [resolve_resume(self.args.resume, root)]
        if not candidates:
            self.log.info("--resume latest: no checkpoint yet, starting fresh")
            return
        damage: list[str] = []
        for path in candidates:  # newest first: a damaged one (a crash or a full disk mid-write) falls back
            try:
                loaded = load_checkpoint(path / MODEL_DIR, self.world.device)
                state = load_state(path)
                break
            except SarclipError as error:
                if not latest:
                    raise
                damage.append(str(error))
                self.log.info(f"--resume latest: skipped damaged checkpoint {path.name} ({error})")
        else:
            raise SarclipError(f"no complete checkpoint to resume from in {root} (all {len(candidates)} damaged; "
                               f"newest: {damage[0]}); start without --resume")
        self.model.load_state_dict(loaded.model.state_dict())
        self.reader.fusion.load_state_dict(loaded.reader.fusion.state_dict())
        if "decoder" in state.extra and isinstance(self.module, MaskedImageModel):
            self.module.decoder.load_state_dict(state.extra["decoder"])
        if self.ema is not None:
            if "ema" not in state.extra:
                raise SarclipError(f"{path}: checkpoint has no --model-ema weights; resume without --model-ema")
            self.ema.module.load_state_dict(state.extra["ema"])
        if self.scaler is not None and "grad_scaler" in state.extra:  # absent: an fp32 run's checkpoint
            self.scaler.load_state_dict(state.extra["grad_scaler"])
        self.optimizer.load_state_dict(state.optimizer)
        self.scheduler.load_state_dict(state.scheduler)
        self.step = state.step
        self.log.info(f"resumed from {path} at step {self.step}")

    # -- the loop -------------------------------------------------------------------------------------

    def run(self) -> Path:
        args, steps_per_epoch = self.args, len(self.batches)
        self.log.info(f"stage {args.stage}: {len(self.data)} images, {steps_per_epoch} steps/epoch, "
                      f"{self.total_steps} steps, world size {self.world.size}, model {model_name(args.model)}")
        for problem in self.problems:
            self.log.info(f"skipped: {problem}")
        # a context: an error mid-run closes the bar first, so its one-line message starts a line of its own
        with tqdm(total=self.total_steps, initial=self.step, unit="step", disable=not self.world.is_main) as bar:
            epoch_losses: list[float] = []
            epoch_start, epoch_samples = time.perf_counter(), 0
            while self.step < self.total_steps:
                step_start = time.perf_counter()
                epoch, index = divmod(self.step, steps_per_epoch)
                batch = self.data.batch(self.batches.indices(epoch, index), epoch)
                lr = self.optimizer.param_groups[0]["lr"]
                loss = self._train_step(batch)
                self.step += 1
                epoch_losses.append(loss)
                epoch_samples += len(batch.captions) * self.world.size
                # wall time of the step, batch assembly included: steady-state throughput without checkpoints
                self.log.step({"step": self.step, "epoch": epoch, "loss": loss, "lr": lr,
                               "seconds": time.perf_counter() - step_start})
                bar.set_postfix(loss=f"{loss:.4f}", lr=f"{lr:.2e}")
                bar.update()
                epoch_done = self.step % steps_per_epoch == 0 or self.step == self.total_steps
                if epoch_done or (args.save_every_n_steps and self.step % args.save_every_n_steps == 0):
                    self._checkpoint()
                if epoch_done:
                    seconds = time.perf_counter() - epoch_start
                    metrics = {"epoch": epoch + 1, "step": self.step,
                               "loss": mean_over_world(sum(epoch_losses) / len(epoch_losses), self.world),
                               "lr": lr, "samples_per_s": epoch_samples / seconds, "seconds": seconds}
                    metrics.update(self._validate())
                    self.log.epoch(metrics)
                    epoch_losses, epoch_start, epoch_samples = [], time.perf_counter(), 0
        return self._finish()

    def _train_step(self, batch: Batch) -> float:
        self.optimizer.zero_grad(set_to_none=True)
        if self.args.stage == "ssl":
            loss = self._ssl_step(batch)
        else:
            loss = self._clip_step(batch)
        if self.scaler is None:
            self.optimizer.step()
        else:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        self.scheduler.step()
        with torch.no_grad():
            self.model.logit_scale.clamp_(0, MAX_LOGIT_SCALE)
        if self.ema is not None:
            self.ema.update(self.module, step=self.step + 1)
        return loss

    def _autocast(self):
        if self.args.precision == "fp32":
            return contextlib.nullcontext()
        dtype = torch.float16 if self.args.precision == "amp" else torch.bfloat16
        return torch.autocast(self.world.device.type, dtype=dtype)

    def _backward(self, loss: torch.Tensor) -> None:
        """Back-propagate, through the gradient scaler with float16 autocast (small gradients would underflow)."""
        (loss if self.scaler is None else self.scaler.scale(loss)).backward()

    def _ssl_step(self, batch: Batch) -> float:
        images = batch.images.to(self.world.device)
        generator = torch.Generator().manual_seed(hash((self.args.seed, self.step, self.world.rank)) & 0xFFFFFFFF)
        total = 0.0
        for part in chunks(images, self.args.accum_freq):
            with self._autocast():
                loss = self.engine(part, generator) / self.args.accum_freq
            self._backward(loss)
            total += loss.item()
        return total

    def _clip_step(self, batch: Batch) -> float:
        """Contrastive step; with --accum-freq, features of all micro-batches are cached (open_clip's scheme)."""
        tokens = self.module.tokenize(batch.captions).to(self.world.device)
        mode = self.args.group_by
        groups = gather(batch.groups.to(self.world.device), self.world) if mode in ("label", "written") else None
        captions = gather(batch.caption_ids.to(self.world.device), self.world) if mode != "none" else None
        true_pairs = self.data.written_pairs(groups.cpu(), captions.cpu()) if mode == "written" else None
        parts = chunks(list(range(len(batch.captions))), self.args.accum_freq)
        images = batch.images

        def take(idx: list[int]):
            return images[idx[0]:idx[-1] + 1]

        with torch.no_grad(), self._autocast():
            cached = [self.engine(take(idx), tokens[idx[0]:idx[-1] + 1])[:2] for idx in parts] \
                if len(parts) > 1 else None
        loss_value = 0.0
        for j, idx in enumerate(parts):
            windows, class_tokens, targets = self._dense_inputs(batch, idx)
            counted, wrong = self._count_negatives(batch, idx)
            part_tokens = tokens[idx[0]:idx[-1] + 1]
            if wrong is not None:
                part_tokens = torch.cat([part_tokens, wrong])
            with self._autocast():
                image, text, scale, *dense = self.engine(take(idx), part_tokens, windows, class_tokens)
                text, wrong_text = text[:len(idx)], text[len(idx):]
                part_image, part_text = image, text
                if cached is not None:
                    image = torch.cat([c[0] for c in cached[:j]] + [image] + [c[0] for c in cached[j + 1:]])
                    text = torch.cat([c[1] for c in cached[:j]] + [text] + [c[1] for c in cached[j + 1:]])
                loss = contrastive_loss(gather(image.float(), self.world), gather(text.float(), self.world),
                                        scale.float(), groups, captions, true_pairs)
                if dense:
                    loss = loss + self.args.dense_weight / len(parts) * dense_loss(
                        dense[0].float(), dense[1].float(), targets, scale.float(), self.dense.objects)
                if wrong is not None:
                    loss = loss + self.args.count_weight / len(parts) * count_loss(
                        part_image[counted].float(), part_text[counted].float(),
                        wrong_text.float().reshape(len(counted), NEGATIVES, -1), scale.float())
            self._backward(loss)
            loss_value = loss.item()
        return loss_value

    def _count_negatives(self, batch: Batch, idx: list[int]) -> tuple[list[int], torch.Tensor | None]:
        """Positions (within the micro-batch) of captions stating a plural count, and the tokens of their
        wrong-number copies (NEGATIVES each, in order); ([], None) without --count-weight or such captions."""
        if not self.args.count_weight:
            return [], None
        rng = random.Random(self.args.seed * 1_000_003 + self.step)
        counted, wrong = [], []
        for position, i in enumerate(idx):
            negatives = wrong_counts(batch.captions[i], rng)
            if negatives:
                counted.append(position)
                wrong += negatives
        if not counted:
            return [], None
        return counted, self.module.tokenize(wrong).to(self.world.device)

    def _dense_inputs(self, batch: Batch, idx: list[int]):
        """Native windows of a micro-batch with dense truth, a drawn prompt per dense class, and the targets."""
        if self.dense is None or batch.cells is None:
            return None, None, None
        items = [i for i in idx if bool(batch.cells[i].any())]
        if not items:
            return None, None, None
        windows = torch.stack([batch.images[i] for i in items]).to(self.world.device)
        prompts = self.dense.draw(self.args.seed, self.step)
        tokens = self.module.tokenize(prompts).to(self.world.device)
        return windows, tokens, batch.cells[items].to(self.world.device)

    # -- outputs --------------------------------------------------------------------------------------

    def _save_model(self, directory: Path, dtype: torch.dtype = torch.float32, shipped: bool = False) -> None:
        """The training weights (for resuming), or with shipped=True the weights the run hands out."""
        labels = [s.strip() for s in self.args.labels.split(",")] if self.args.labels else None
        model, reader = self._shipped() if shipped else (self.model, self.reader)
        save_checkpoint(directory, model, self.config, reader,
                        self.normalisation, self.channels, labels, _jsonable(vars(self.args)), dtype=dtype)

    def _checkpoint(self) -> None:
        if not self.world.is_main:
            return
        extra: dict[str, Any] = {}
        if isinstance(self.module, MaskedImageModel):
            extra["decoder"] = self.module.decoder.state_dict()
        if self.ema is not None:
            extra["ema"] = self.ema.module.state_dict()
        if self.scaler is not None:  # its loss scale and growth tracker: a resumed amp run continues with them
            extra["grad_scaler"] = self.scaler.state_dict()
        state = TrainState(self.step, self.optimizer.state_dict(), self.scheduler.state_dict(), extra)
        save_state(self.run_dir / "checkpoints", state, self._save_model)

    def _validate(self) -> dict[str, float]:
        if self.args.stage != "clip" or not self.world.is_main or not (self.args.val_data or self.args.val_zeroshot):
            return {}
        try:  # run_task restores train/eval state itself; a locked tower's frozen BatchNorm is re-applied after
            return validation_metrics(self.args, *self._shipped(), model_config(model_name(self.args.model)),
                                      self.normalisation, self.channels)
        finally:
            self._train_mode()

    def _train_mode(self) -> None:
        """Training mode, except a locked image tower: eval keeps its BatchNorm statistics frozen as well."""
        self.module.train()
        if self.args.lock_image:
            self.model.visual.eval()

    def _finish(self) -> Path:
        final = self.run_dir / "final"
        if self.world.is_main:
            self._save_model(final, shipped=True)
            if self.args.out:
                dtype = torch.float16 if self.args.save_dtype == "fp16" else torch.float32
                self._save_model(Path(self.args.out), dtype, shipped=True)
            plot_losses(self.run_dir)
            self.log.info(f"done: {self.step} steps; model in {final}" +
                          (f" and {self.args.out}" if self.args.out else ""))
        return Path(self.args.out) if self.args.out else final


def _param_groups(module: nn.Module, wd: float) -> list[dict[str, Any]]:
    """open_clip's rule: no weight decay on gains, biases, norms and the logit scale."""
    decay, no_decay = [], []
    for name, param in module.named_parameters():
        if not param.requires_grad:
            continue
        exclude = param.ndim < 2 or "bn" in name or "ln" in name or "bias" in name or "logit_scale" in name
        (no_decay if exclude else decay).append(param)
    if not decay and not no_decay:
        raise SarclipError("nothing to train: every parameter is locked")
    return [{"params": no_decay, "weight_decay": 0.0}, {"params": decay, "weight_decay": wd}]


def _cosine(warmup: int, total: int):
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
    return factor


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(values, default=str))
