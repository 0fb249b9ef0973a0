//! A decoder-only transformer language model (GPT-2's architecture, Radford et al. 2019, with
//! the pre-LN blocks of Xiong et al. 2020; nanoGPT's layout): token and learned position
//! embeddings, `layers` blocks `x + attn(ln1(x))` then `x + mlp(ln2(x))`, a final layer norm
//! and a linear head without bias over the vocabulary, optionally tied to the token embedding
//! (Press & Wolf 2017). `norm: none` drops the three layer norms (the grokking model of Nanda
//! et al. 2023). The equivalent PyTorch module, parameters in this order (docs/networks.md):
//!
//! ```python
//! class CausalSelfAttention(nn.Module):
//!     def __init__(self, d, heads):
//!         super().__init__()
//!         self.heads = heads
//!         self.qkv = nn.Linear(d, 3 * d)
//!         self.proj = nn.Linear(d, d)
//!
//!     def forward(self, x):
//!         B, T, d = x.shape
//!         q, k, v = self.qkv(x).split(d, dim=2)
//!         q, k, v = (t.view(B, T, self.heads, d // self.heads).transpose(1, 2) for t in (q, k, v))
//!         y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
//!         return self.proj(y.transpose(1, 2).reshape(B, T, d))
//!
//! class MLP(nn.Module):
//!     def __init__(self, d, d_mlp, act):
//!         super().__init__()
//!         self.fc, self.act, self.proj = nn.Linear(d, d_mlp), act, nn.Linear(d_mlp, d)
//!
//!     def forward(self, x):
//!         return self.proj(self.act(self.fc(x)))
//!
//! class Block(nn.Module):
//!     def __init__(self, d, heads, d_mlp, act, norm):
//!         super().__init__()
//!         self.ln1 = nn.LayerNorm(d) if norm else nn.Identity()
//!         self.attn = CausalSelfAttention(d, heads)
//!         self.ln2 = nn.LayerNorm(d) if norm else nn.Identity()
//!         self.mlp = MLP(d, d_mlp, act)
//!
//!     def forward(self, x):
//!         x = x + self.attn(self.ln1(x))
//!         return x + self.mlp(self.ln2(x))
//!
//! class Transformer(nn.Module):
//!     def __init__(self, vocab, context, d, layers, heads, d_mlp, act, norm=True, tie=False):
//!         super().__init__()
//!         self.tok_emb = nn.Embedding(vocab, d)
//!         self.pos_emb = nn.Embedding(context, d)
//!         self.blocks = nn.ModuleList(Block(d, heads, d_mlp, act, norm) for _ in range(layers))
//!         self.ln_f = nn.LayerNorm(d) if norm else nn.Identity()
//!         self.head = nn.Linear(d, vocab, bias=False)
//!         if tie:
//!             self.head.weight = self.tok_emb.weight
//!
//!     def forward(self, idx):                       # (B, T) token ids, T ≤ context
//!         x = self.tok_emb(idx) + self.pos_emb(torch.arange(idx.shape[1]))
//!         for block in self.blocks:
//!             x = block(x)
//!         return self.head(self.ln_f(x))            # (B, T, vocab) logits
//! ```
//!
//! With `target: last` only the last position's logits are computed (the layer norm and the
//! head act per position, so they equal `model(idx)[:, -1]`).
//!
//! **Initialisation.** By default PyTorch's for each module: embeddings `N(0, 1)`, linear layers
//! `U(±1/√fan_in)`, layer norms 1 and 0 (a tied table keeps the embedding's `N(0, 1)`). With
//! `init_std: σ`, GPT-2's (as nanoGPT's `_init_weights`): every weight and embedding `N(0, σ)`,
//! the two residual projections of each block (`attn.proj.weight`, `mlp.proj.weight`)
//! `N(0, σ/√(2·layers))`, biases 0, layer norms 1 and 0; GPT-2 uses σ = 0.02.

use rand_chacha::ChaCha8Rng;

use super::Built;
use super::cnn::KeyedError;
use crate::config::Activation;
use crate::layers::activation::ActivationLayer;
use crate::layers::attention::CausalSelfAttention;
use crate::layers::embedding::{Embedding, normal_init};
use crate::layers::graph::{Graph, GraphBuilder, TensorId};
use crate::layers::last_position::LastPosition;
use crate::layers::layer_norm::LayerNorm;
use crate::layers::linear::Linear;
use crate::layers::position_embedding::PositionEmbedding;
use crate::layers::{Dims, LayerError};
use crate::seeds;

/// Which positions the loss is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// Next-token cross-entropy at every position (language modelling).
    All,
    /// At the last position only: the answer of an algorithmic task.
    Last,
}

/// The architecture of a transformer (without its vocabulary and sequence length).
#[derive(Clone, Debug, PartialEq)]
pub struct TransformerSpec {
    /// Number of blocks.
    pub layers: usize,
    /// Width of the residual stream.
    pub d_model: usize,
    /// Attention heads (dividing `d_model`).
    pub heads: usize,
    /// Width of the MLP's hidden layer.
    pub d_mlp: usize,
    /// Rows of the position table: the longest sequence.
    pub context: usize,
    /// Pre-LN blocks and a final layer norm (`norm: pre`), or no layer norm (`none`).
    pub layer_norm: bool,
    /// The MLP's activation.
    pub activation: Activation,
    /// The head reuses the token embedding's table.
    pub tie_embeddings: bool,
    /// GPT-2's initialisation with this σ; `None`: PyTorch's default per module.
    pub init_std: Option<f64>,
}

fn at(key: &'static str) -> impl Fn(LayerError) -> KeyedError {
    move |e| (key.to_string(), e)
}

/// One block on the residual stream `x` under `blocks.{i}`.
fn block(
    b: &mut GraphBuilder,
    i: usize,
    spec: &TransformerSpec,
    x: TensorId,
) -> Result<TensorId, KeyedError> {
    let p = |s: &str| format!("blocks.{i}.{s}");
    let (d, dims) = (spec.d_model, b.dims(x));
    let tokens = dims.width;
    let norm = |b: &mut GraphBuilder, path: String, x: TensorId| {
        if spec.layer_norm {
            b.layer(path, LayerNorm::new(dims).map_err(at("d_model"))?, x)
                .map_err(at("d_model"))
        } else {
            Ok(x)
        }
    };
    let h = norm(b, p("ln1"), x)?;
    let qkv = Linear::new(dims, 3 * d).map_err(at("d_model"))?;
    let h = b.layer(p("attn.qkv"), qkv, h).map_err(at("d_model"))?;
    let attn = CausalSelfAttention::new(tokens, d, spec.heads).map_err(at("heads"))?;
    let h = b.layer(p("attn"), attn, h).map_err(at("heads"))?;
    let proj = Linear::new(dims, d).map_err(at("d_model"))?;
    let h = b.layer(p("attn.proj"), proj, h).map_err(at("d_model"))?;
    let x = b.add(x, h).map_err(at("d_model"))?;
    let h = norm(b, p("ln2"), x)?;
    let fc = Linear::new(dims, spec.d_mlp).map_err(at("d_mlp"))?;
    let h = b.layer(p("mlp.fc"), fc, h).map_err(at("d_mlp"))?;
    let act = ActivationLayer::new(b.dims(h), spec.activation);
    let h = b.layer(p("mlp.act"), act, h).map_err(at("d_mlp"))?;
    let proj = Linear::new(b.dims(h), d).map_err(at("d_mlp"))?;
    let h = b.layer(p("mlp.proj"), proj, h).map_err(at("d_mlp"))?;
    b.add(x, h).map_err(at("d_model"))
}

/// The transformer `spec` over a vocabulary of `vocab` tokens, on inputs of `tokens` token ids
/// (`1 × tokens × 1`), with logits at every position (`1 × tokens × vocab`) or at the last
/// (`1 × 1 × vocab`); initialised from the run's `seed`.
pub(crate) fn build(
    spec: &TransformerSpec,
    vocab: usize,
    tokens: usize,
    target: Target,
    seed: u64,
) -> Result<Built, KeyedError> {
    if tokens > spec.context {
        return Err((
            "context".into(),
            LayerError::new(
                "Transformer",
                format!(
                    "the sequences have {tokens} tokens, more than the {} positions of the \
                     context",
                    spec.context
                ),
            ),
        ));
    }
    let d = spec.d_model;
    let mut b = GraphBuilder::new(Dims {
        height: 1,
        width: tokens,
        channels: 1,
    });
    let emb = Embedding::new(tokens, vocab, d).map_err(at("d_model"))?;
    let emb = b.layer("tok_emb", emb, b.input()).map_err(at("d_model"))?;
    let pos = PositionEmbedding::new(b.dims(emb), spec.context).map_err(at("context"))?;
    let mut x = b.layer("pos_emb", pos, emb).map_err(at("context"))?;
    for i in 0..spec.layers {
        x = block(&mut b, i, spec, x)?;
    }
    if target == Target::Last {
        x = b
            .layer("last", LastPosition::new(b.dims(x)), x)
            .map_err(at("target"))?;
    }
    if spec.layer_norm {
        let ln = LayerNorm::new(b.dims(x)).map_err(at("d_model"))?;
        x = b.layer("ln_f", ln, x).map_err(at("d_model"))?;
    }
    let head = Linear::without_bias(b.dims(x), vocab).map_err(at("d_model"))?;
    x = if spec.tie_embeddings {
        b.layer_sharing("head", head, x, emb)
    } else {
        b.layer("head", head, x)
    }
    .map_err(at("tie_embeddings"))?;
    let graph = b.finish(x).map_err(at("layers"))?;
    let mut rng = seeds::rng(seed, seeds::STREAM_INIT);
    let init = match spec.init_std {
        None => graph.init_params(&mut rng),
        Some(std) => gpt2_init(&graph, std, spec.layers, &mut rng),
    };
    Ok(Built { graph, init })
}

/// GPT-2's initialisation (see the module documentation), tensor by tensor in parameter order.
fn gpt2_init(graph: &Graph, std: f64, layers: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let mut params = vec![0.0f32; graph.n_params()];
    let residual_std = std / ((2 * layers.max(1)) as f64).sqrt();
    for t in graph.param_layout() {
        let values = &mut params[t.range()];
        if t.name.ends_with(".bias") {
            values.fill(0.0);
        } else if t.module == "LayerNorm" {
            values.fill(1.0);
        } else if t.name.ends_with("attn.proj.weight") || t.name.ends_with("mlp.proj.weight") {
            normal_init(values, residual_std, rng);
        } else {
            normal_init(values, std, rng);
        }
    }
    params
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // initial values 0 and 1 are exact
mod tests {
    use super::*;

    fn spec(layers: usize, layer_norm: bool, tie: bool) -> TransformerSpec {
        TransformerSpec {
            layers,
            d_model: 8,
            heads: 2,
            d_mlp: 32,
            context: 6,
            layer_norm,
            activation: Activation::Gelu,
            tie_embeddings: tie,
            init_std: None,
        }
    }

    #[test]
    fn parameters_follow_the_pytorch_module() {
        let built = build(&spec(2, true, false), 10, 5, Target::All, 0).unwrap();
        let names: Vec<_> = built
            .graph
            .param_layout()
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(
            &names[..10],
            [
                "tok_emb.weight",
                "pos_emb.weight",
                "blocks.0.ln1.weight",
                "blocks.0.ln1.bias",
                "blocks.0.attn.qkv.weight",
                "blocks.0.attn.qkv.bias",
                "blocks.0.attn.proj.weight",
                "blocks.0.attn.proj.bias",
                "blocks.0.ln2.weight",
                "blocks.0.ln2.bias",
            ]
        );
        assert_eq!(
            names[names.len() - 3..],
            ["ln_f.weight", "ln_f.bias", "head.weight"]
        );
        // 12 d² + 13 d per block (d_mlp = 4d), embeddings, final norm and head.
        let (d, v) = (8, 10);
        assert_eq!(
            built.graph.n_params(),
            v * d + 6 * d + 2 * (12 * d * d + 13 * d) + 2 * d + v * d
        );
        assert_eq!(built.graph.output_dims().len(), 5 * v);
        let tied = build(&spec(1, false, true), 10, 4, Target::Last, 0).unwrap();
        let names: Vec<_> = tied
            .graph
            .param_layout()
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert!(!names.iter().any(|n| n.contains("ln") || n == "head.weight"));
        assert_eq!(tied.graph.param_aliases()[0].name, "head.weight");
        assert_eq!(tied.graph.output_dims().len(), v);
        let e = build(&spec(1, true, false), 10, 7, Target::All, 0)
            .err()
            .unwrap();
        assert_eq!(e.0, "context");
    }

    #[test]
    fn gpt2_init_has_its_scales() {
        let mut s = spec(2, true, false);
        s.d_model = 64;
        s.d_mlp = 256;
        s.init_std = Some(0.02);
        let built = build(&s, 50, 6, Target::All, 1).unwrap();
        let std_of = |name: &str| {
            let t = built
                .graph
                .param_layout()
                .into_iter()
                .find(|t| t.name == name)
                .unwrap();
            let v = &built.init[t.range()];
            (v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
        };
        assert!((std_of("blocks.0.attn.qkv.weight") / 0.02 - 1.0).abs() < 0.05);
        assert!((std_of("blocks.1.mlp.proj.weight") / 0.01 - 1.0).abs() < 0.05);
        assert_eq!(std_of("blocks.0.attn.qkv.bias"), 0.0);
        assert_eq!(std_of("ln_f.weight"), 1.0);
    }
}
