//! SplitMix64, a fixed and seedable generator, so every benchmark run generates the same
//! values. The benchmark examples include it through `#[path]`, and each uses only some of it.

pub struct Rng(pub u64);

impl Rng {
    /// Returns the next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Returns a uniform value in [0, 1) with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Returns an approximately standard normal value: the Irwin–Hall sum of 12 uniforms minus
    /// 6. Cheap, and bounded to ±6.
    pub fn approx_normal(&mut self) -> f64 {
        (0..12).map(|_| self.unit()).sum::<f64>() - 6.0
    }

    /// Returns a standard normal value (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let (a, b) = (self.unit().max(f64::MIN_POSITIVE), self.unit());
        (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
    }
}
