//! Seeded generator of large synthetic product catalogues (owned by the generator work).
//!
//! The catalogues feed scale benchmarks (training, querying, all-pairs neighbours at
//! 100k-1M rows), so they have to stress a similarity engine the way a merged retail
//! feed does: Zipf-skewed brands, per-category vocabularies, model codes in many
//! shapes, near-duplicate families and a vocabulary that keeps growing with size.
//!
//! Every row is a pure function of `(seed, row index)`. That keeps memory flat at 1M
//! rows and lets [`sample_queries`] describe real catalogue rows without generating
//! the whole file. All randomness is an in-file SplitMix64 and all arithmetic is
//! integer-only (no floats, no libm), so a seed yields byte-identical output on every
//! platform and Rust version.

use std::io::{self, Write};

/// Size and seed of a synthetic catalogue; equal options always yield equal bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynthOptions {
    /// Number of product rows to generate.
    pub items: usize,
    /// Seed of the built-in PRNG.
    pub seed: u64,
}

/// Writes a CSV catalogue with header `id,title,brand,category,description,price`.
///
/// Output is RFC 4180 CSV (fields with commas, quotes or line breaks are quoted) with
/// `\n` line ends. Rows are batched internally, so an unbuffered writer is fine too.
pub fn write_catalog<W: Write>(opts: &SynthOptions, mut out: W) -> io::Result<()> {
    const FLUSH_AT: usize = 1 << 16;
    let synth = Synth::new(opts.seed);
    let mut parts = Parts::default();
    let mut text = Texts::default();
    let width = decimal_digits(opts.items as u64).max(7);
    let mut buf: Vec<u8> = Vec::with_capacity(FLUSH_AT + 4096);
    buf.extend_from_slice(b"id,title,brand,category,description,price\n");
    for i in 0..opts.items {
        let item = synth.item(i as u64);
        synth.materialize(&item, &mut parts);
        render_title(&item, &parts, &mut text.title);
        render_desc(&item, &parts, &mut text.desc);

        text.field.clear();
        text.field.push('P');
        push_padded(&mut text.field, i as u64 + 1, width);
        push_field(&mut buf, &text.field);
        buf.push(b',');
        push_field(&mut buf, &text.title);
        buf.push(b',');
        render_brand_column(&item, &mut text.field);
        push_field(&mut buf, &text.field);
        buf.push(b',');
        render_category_column(&item, &mut text.field);
        push_field(&mut buf, &text.field);
        buf.push(b',');
        push_field(&mut buf, &text.desc);
        buf.push(b',');
        text.field.clear();
        push_price(&mut text.field, item.price);
        push_field(&mut buf, &text.field);
        buf.push(b'\n');

        if buf.len() >= FLUSH_AT {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)?;
    out.flush()
}

/// Produces `n` query texts describing products of the catalogue defined by `opts`,
/// the way shoppers search ("sony noise cancelling headphones", "wh1000xm4") or other
/// shops list the same product (reworded titles, reformatted codes).
///
/// Targets are rows of that catalogue (row 0 when `opts.items` is 0); `seed` only
/// drives which rows are picked and how they are phrased.
pub fn sample_queries(opts: &SynthOptions, n: usize, seed: u64) -> Vec<String> {
    let synth = Synth::new(opts.seed);
    let universe = opts.items.max(1) as u64;
    let mut parts = Parts::default();
    let mut queries = Vec::with_capacity(n);
    for q in 0..n {
        let mut rng = Rng::new(key(seed, SALT_QUERY, q as u64));
        let mut item = synth.item(rng.below_u64(universe));
        let mut text = String::new();
        if rng.chance(25) {
            // Another shop's listing of the same product.
            restyle(&mut item, &mut rng);
            synth.materialize(&item, &mut parts);
            render_title(&item, &parts, &mut text);
        } else {
            // Shoppers rarely use the catalogue's own code formatting.
            item.code_style = rng.below(CODE_STYLES) as u8;
            synth.materialize(&item, &mut parts);
            user_query(&item, &parts, &mut rng, &mut text);
        }
        queries.push(text);
    }
    queries
}

// ---------------------------------------------------------------------------
// PRNG: SplitMix64. Fixed constants and wrapping integer ops only, so the stream for
// a seed never depends on the platform, the Rust version or a third-party crate.

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Independent stream key for (seed, purpose, index); salts keep purposes from
/// sharing streams, which would correlate e.g. a family's brand with its code.
fn key(seed: u64, salt: u64, n: u64) -> u64 {
    mix64(mix64(seed ^ salt.wrapping_mul(GOLDEN)).wrapping_add(n))
}

const SALT_ITEM: u64 = 1;
const SALT_FAMILY: u64 = 2;
const SALT_BRAND: u64 = 3;
const SALT_SERIES: u64 = 4;
const SALT_CODE: u64 = 5;
const SALT_DESC: u64 = 6;
const SALT_QUERY: u64 = 7;
const SALT_COMPAT: u64 = 8;
const SALT_UNIQUE_SERIES: u64 = 9;

struct Rng(u64);

impl Rng {
    fn new(state: u64) -> Self {
        Rng(state)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix64(self.0)
    }

    /// Uniform in `0..n` (0 when n is 0) by multiply-shift; the tiny bias is
    /// irrelevant here and it avoids a data-dependent rejection loop.
    fn below_u64(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    fn below(&mut self, n: usize) -> usize {
        self.below_u64(n as u64) as usize
    }

    fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent as usize
    }

    /// Tables are non-empty (checked by a test), so indexing cannot fail.
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }

    /// Zipf (s = 1) over `0..n` with integer weights, so rank 0 is the most popular.
    fn zipf(&mut self, n: usize) -> usize {
        const SCALE: u64 = 1 << 20;
        let n = n.max(1) as u64;
        let total: u64 = (1..=n).map(|k| SCALE / k).sum();
        let mut r = self.below_u64(total);
        for k in 1..=n {
            let w = SCALE / k;
            if r < w {
                return (k - 1) as usize;
            }
            r -= w;
        }
        (n - 1) as usize
    }
}

// ---------------------------------------------------------------------------
// Vocabulary.

#[derive(Clone, Copy)]
enum Unit {
    Plain,
    Inch,
    /// Number glued to a unit ("64GB", "65W"); restyled as "64 GB", "64gb".
    Measure,
    Pack,
    Piece,
    Sheet,
    Size,
    Foot,
    Year,
    Cup,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Pos {
    /// Before the features: "Nike Men's Dri-FIT T-Shirt", "SanDisk 64GB Flash Drive".
    Pre,
    /// After the noun, comma-separated in canonical titles: ", 12-Pack".
    Post,
    Colour,
}

/// An attribute axis; an empty value means "absent", so optional axes list "" (and
/// repeat it to make absence likely).
struct Slot {
    unit: Unit,
    pos: Pos,
    values: &'static [&'static str],
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Compat {
    No,
    /// "for <series> <model>": accessories naming the device they fit.
    Model,
    /// "for Toyota Camry 2018-2022".
    Vehicle,
}

#[derive(Clone, Copy)]
enum Dept {
    Electronics,
    Office,
    Kitchen,
    Tools,
    Toys,
    Software,
    Apparel,
    Home,
    Outdoor,
    Beauty,
    Pet,
    Auto,
    Baby,
    Grocery,
}

struct Category {
    path: &'static str,
    dept: Dept,
    /// Relative share of families.
    weight: u32,
    /// Ordered by popularity: the Zipf draw favours the front.
    brands: &'static [&'static str],
    nouns: &'static [&'static str],
    features: &'static [&'static str],
    benefits: &'static [&'static str],
    slots: &'static [Slot],
    /// Code shapes: `p`/`q` are brand-fixed letters/digits (a brand's codes share a
    /// prefix, like Panasonic "KX-"), `A` letter, `9` digit, `X` either, else literal.
    codes: &'static [&'static str],
    /// Percent of families whose canonical title shows the model code.
    code_pct: u32,
    /// Base price range in cents.
    price: (u32, u32),
    compat: Compat,
}

const MAX_SLOTS: usize = 6;
const MAX_FEATS: usize = 3;
const SERIES_POOL: usize = 8;

const COLOUR: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Colour,
    values: &[
        "Black",
        "White",
        "Silver",
        "Space Gray",
        "Blue",
        "Red",
        "Graphite",
        "Rose Gold",
        "Midnight Blue",
        "Green",
        "Pink",
        "Charcoal",
    ],
};
const COLOUR_OPT: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Colour,
    values: &["", "", "", "Black", "White", "Blue", "Red", "Gray", "Green"],
};
const APPAREL_COLOUR: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Colour,
    values: &[
        "Black",
        "White",
        "Navy",
        "Heather Gray",
        "Charcoal",
        "Red",
        "Royal Blue",
        "Olive",
        "Maroon",
        "Forest Green",
        "Sand",
        "Burgundy",
        "Light Blue",
        "Military Green",
        "Purple",
    ],
};
const SHOE_COLOUR: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Colour,
    values: &[
        "Black/White",
        "Triple Black",
        "Grey/Navy",
        "White/Gum",
        "Blue/Orange",
        "Core Black",
        "Cloud White",
        "Olive/Black",
        "Brown",
        "Tan",
    ],
};
const INK_COLOUR: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Colour,
    values: &[
        "Black",
        "Cyan",
        "Magenta",
        "Yellow",
        "Tri-Color",
        "Photo Black",
        "Black/Tri-Color Combo",
    ],
};
const PEN_COLOUR: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Colour,
    values: &[
        "Black",
        "Blue",
        "Red",
        "Assorted Colors",
        "Black Ink",
        "Blue Ink",
    ],
};
const STORAGE_SMALL: Slot = Slot {
    unit: Unit::Measure,
    pos: Pos::Pre,
    values: &["16GB", "32GB", "64GB", "128GB", "256GB", "512GB", "1TB"],
};
const STORAGE_LARGE: Slot = Slot {
    unit: Unit::Measure,
    pos: Pos::Pre,
    values: &["250GB", "500GB", "1TB", "2TB", "4TB", "5TB", "8TB"],
};
const SCREEN_MONITOR: Slot = Slot {
    unit: Unit::Inch,
    pos: Pos::Pre,
    values: &["21.5", "24", "27", "32", "34", "49"],
};
const SCREEN_LAPTOP: Slot = Slot {
    unit: Unit::Inch,
    pos: Pos::Pre,
    values: &["11.6", "13.3", "14", "15.6", "16", "17.3"],
};
const SCREEN_TABLET: Slot = Slot {
    unit: Unit::Inch,
    pos: Pos::Pre,
    values: &["8", "8.7", "10.1", "10.9", "11", "12.9"],
};
const SCREEN_TV: Slot = Slot {
    unit: Unit::Inch,
    pos: Pos::Pre,
    values: &["32", "43", "50", "55", "65", "75", "85"],
};
const PACK: Slot = Slot {
    unit: Unit::Pack,
    pos: Pos::Post,
    values: &["", "", "", "", "2", "3", "4", "6", "10", "12", "24"],
};
const PACK_BULK: Slot = Slot {
    unit: Unit::Pack,
    pos: Pos::Post,
    values: &["4", "8", "12", "16", "20", "24", "36", "48"],
};
const WATT_CHARGER: Slot = Slot {
    unit: Unit::Measure,
    pos: Pos::Pre,
    values: &["", "20W", "30W", "45W", "65W", "100W", "140W"],
};
const WATT_APPLIANCE: Slot = Slot {
    unit: Unit::Measure,
    pos: Pos::Pre,
    values: &["", "", "", "700W", "1000W", "1200W", "1500W", "1800W"],
};
const CPU: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Post,
    values: &[
        "Intel Core i3",
        "Intel Core i5",
        "Intel Core i7",
        "Intel Core i9",
        "AMD Ryzen 5",
        "AMD Ryzen 7",
        "Intel Celeron",
    ],
};
const RAM: Slot = Slot {
    unit: Unit::Measure,
    pos: Pos::Post,
    values: &["4GB RAM", "8GB RAM", "16GB RAM", "32GB RAM"],
};
const LAPTOP_SSD: Slot = Slot {
    unit: Unit::Measure,
    pos: Pos::Post,
    values: &["128GB SSD", "256GB SSD", "512GB SSD", "1TB SSD", "2TB SSD"],
};
const CABLE_LENGTH: Slot = Slot {
    unit: Unit::Foot,
    pos: Pos::Post,
    values: &["", "", "3", "6", "10", "15"],
};
const YEAR: Slot = Slot {
    unit: Unit::Year,
    pos: Pos::Pre,
    values: &["2019", "2020", "2021", "2022", "2023", "2024", "2025"],
};
const MODEL_YEAR: Slot = Slot {
    unit: Unit::Year,
    pos: Pos::Post,
    values: &["", "", "2021", "2022", "2023", "2024"],
};
const AUDIENCE: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Pre,
    values: &[
        "Men's", "Women's", "Unisex", "Boys'", "Girls'", "Men's", "Women's",
    ],
};
const APPAREL_SIZE: Slot = Slot {
    unit: Unit::Size,
    pos: Pos::Post,
    values: &["XS", "S", "M", "L", "XL", "XXL", "3XL"],
};
const SHOE_SIZE: Slot = Slot {
    unit: Unit::Size,
    pos: Pos::Post,
    values: &[
        "6", "6.5", "7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "11.5", "12", "13",
    ],
};
const SHOE_WIDTH: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Post,
    values: &["", "", "", "Medium", "Wide", "X-Wide"],
};
const PUZZLE_PIECES: Slot = Slot {
    unit: Unit::Piece,
    pos: Pos::Pre,
    values: &["", "300", "500", "750", "1000", "1000", "1500", "2000"],
};
const SET_PIECES: Slot = Slot {
    unit: Unit::Piece,
    pos: Pos::Post,
    values: &["", "", "250", "432", "617", "1,021", "2,354"],
};
const AGES: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Post,
    values: &[
        "",
        "",
        "Ages 3+",
        "Ages 6+",
        "Ages 8-12",
        "Ages 14+",
        "for Ages 5 and Up",
    ],
};
const PLAYERS: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Post,
    values: &[
        "",
        "",
        "2-4 Players",
        "2-6 Players",
        "for 2 Players",
        "3-8 Players",
    ],
};
const GAME_PLATFORM: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Post,
    values: &[
        "PlayStation 5",
        "PS4",
        "Xbox Series X",
        "Xbox One",
        "Nintendo Switch",
        "PC",
    ],
};
const SW_PLATFORM: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Post,
    values: &["PC/Mac", "Windows", "Mac", "PC Download", "Windows 11/10"],
};
const SW_USERS: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Post,
    values: &[
        "",
        "1 User",
        "3 Users",
        "5 Devices",
        "1 PC",
        "Unlimited Devices",
    ],
};
const SW_TERM: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Post,
    values: &[
        "",
        "",
        "12-Month Subscription",
        "1-Year Subscription",
        "Lifetime License",
        "Auto-Renewal",
    ],
};
const DEVICES: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Post,
    values: &[
        "for 1 Device",
        "for 3 Devices",
        "for 5 Devices",
        "for 10 Devices",
        "for 1 PC",
    ],
};
const PHONE_MODEL: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Post,
    values: &[
        "for iPhone 15 Pro",
        "for iPhone 15",
        "for iPhone 14 Pro Max",
        "for iPhone 13",
        "for Galaxy S24 Ultra",
        "for Galaxy S23",
        "for Pixel 8 Pro",
        "for Pixel 7a",
        "for iPhone SE",
        "for Galaxy A54",
    ],
};
const PEN_TIP: Slot = Slot {
    unit: Unit::Measure,
    pos: Pos::Pre,
    values: &["", "", "0.5mm", "0.7mm", "1.0mm", "0.38mm"],
};
const PAPER_SIZE: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Post,
    values: &[
        "8.5 x 11 Inches",
        "Letter Size",
        "A4",
        "Legal Size",
        "11 x 17 Inches",
    ],
};
const SHEETS: Slot = Slot {
    unit: Unit::Sheet,
    pos: Pos::Post,
    values: &["100", "250", "500", "1500", "2500", "5000"],
};
const RING_SIZE: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Pre,
    values: &["", "0.5 Inch", "1 Inch", "1.5 Inch", "2 Inch", "3 Inch"],
};
const TAPE_WIDTH: Slot = Slot {
    unit: Unit::Measure,
    pos: Pos::Pre,
    values: &["", "", "9mm", "12mm", "18mm", "24mm"],
};
const LABEL_COLOUR: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Colour,
    values: &[
        "",
        "Black on White",
        "Black on Clear",
        "White on Black",
        "Black on Yellow",
    ],
};
const PAN_SIZE: Slot = Slot {
    unit: Unit::Inch,
    pos: Pos::Pre,
    values: &["", "", "8", "10", "10.25", "12", "12.5"],
};
const KNIFE_SIZE: Slot = Slot {
    unit: Unit::Inch,
    pos: Pos::Pre,
    values: &["", "", "3.5", "5", "6", "7", "8", "10"],
};
const APPLIANCE_CAPACITY: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Pre,
    values: &[
        "",
        "",
        "2 Slice",
        "4 Slice",
        "1.7 Liter",
        "64 oz",
        "5.5 Quart",
        "6 Quart",
        "8 Quart",
    ],
};
const CUPS: Slot = Slot {
    unit: Unit::Cup,
    pos: Pos::Pre,
    values: &["", "4", "5", "8", "10", "12", "14"],
};
const CONTAINER_PIECES: Slot = Slot {
    unit: Unit::Piece,
    pos: Pos::Pre,
    values: &["", "10", "18", "24", "30", "40", "50"],
};
const VOLTAGE: Slot = Slot {
    unit: Unit::Measure,
    pos: Pos::Pre,
    values: &["12V MAX", "18V", "18V LXT", "20V MAX", "40V MAX"],
};
const TOOL_KIT: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Post,
    values: &[
        "",
        "",
        "Tool Only",
        "2.0Ah Kit",
        "5.0Ah Kit",
        "with 2 Batteries",
    ],
};
const TOOL_PIECES: Slot = Slot {
    unit: Unit::Piece,
    pos: Pos::Pre,
    values: &["", "", "", "6", "8", "20", "40", "65", "100", "135"],
};
const FASTENER_SIZE: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Pre,
    values: &[
        "#8 x 1-1/4 in",
        "#8 x 2 in",
        "#10 x 3 in",
        "1/4-20 x 1 in",
        "#6 x 5/8 in",
        "3/8 in",
        "2-1/2 in",
    ],
};
const FASTENER_COUNT: Slot = Slot {
    unit: Unit::Pack,
    pos: Pos::Post,
    values: &["50", "100", "100", "250", "500", "1000"],
};
const FIGURE_SIZE: Slot = Slot {
    unit: Unit::Inch,
    pos: Pos::Pre,
    values: &["", "", "3.75", "6", "7", "12"],
};
const BED_SIZE: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Post,
    values: &[
        "Queen",
        "King",
        "Full",
        "Twin",
        "California King",
        "Twin XL",
        "Full/Queen",
    ],
};
const BULB_WATT: Slot = Slot {
    unit: Unit::Measure,
    pos: Pos::Pre,
    values: &[
        "40W Equivalent",
        "60W Equivalent",
        "75W Equivalent",
        "100W Equivalent",
        "65W Equivalent",
    ],
};
const COLOUR_TEMP: Slot = Slot {
    unit: Unit::Measure,
    pos: Pos::Post,
    values: &["", "2700K", "3000K", "4000K", "5000K", "6500K"],
};
const CLEANER_SIZE: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Pre,
    values: &["", "", "22 oz", "32 fl oz", "64 oz", "1 Gallon", "75 Count"],
};
const FITNESS_WEIGHT: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Pre,
    values: &["", "", "5 lb", "10 lb", "15 lb", "20 lb", "25 lb", "50 lb"],
};
const PERSONS: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Pre,
    values: &["", "", "2-Person", "4-Person", "6-Person", "8-Person"],
};
const OUTDOOR_CAPACITY: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Pre,
    values: &["", "", "20 oz", "32 oz", "40 oz", "45 Quart", "65L", "1L"],
};
const PET_BAG: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Post,
    values: &[
        "",
        "",
        "3.5 lb Bag",
        "15 lb Bag",
        "30 lb Bag",
        "40 lb Bag",
        "12 oz",
    ],
};
const PET_SIZE: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Post,
    values: &["", "", "", "Small", "Medium", "Large", "X-Large"],
};
const BEAUTY_VOLUME: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Post,
    values: &[
        "", "1.7 oz", "3.4 oz", "6.7 oz", "8 fl oz", "12 fl oz", "16 fl oz",
    ],
};
const WIPER_SIZE: Slot = Slot {
    unit: Unit::Inch,
    pos: Pos::Pre,
    values: &["", "", "16", "18", "20", "22", "24", "26"],
};
const AUTO_VOLUME: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Pre,
    values: &["", "", "16 oz", "24 oz", "1 Quart", "5 Quart", "1 Gallon"],
};
const DIAPER_SIZE: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Post,
    values: &[
        "", "Newborn", "Size 1", "Size 2", "Size 3", "Size 4", "Size 5", "Size 6",
    ],
};
const BABY_COUNT: Slot = Slot {
    unit: Unit::Pack,
    pos: Pos::Post,
    values: &["", "", "", "84", "124", "168", "198", "252"],
};
const MEGAPIXELS: Slot = Slot {
    unit: Unit::Measure,
    pos: Pos::Pre,
    values: &["", "", "12MP", "20.1MP", "24.2MP", "33MP", "45MP", "61MP"],
};
const PORTS: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Pre,
    values: &["", "", "", "5-Port", "8-Port", "16-Port", "24-Port"],
};
const HANDSETS: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Post,
    values: &[
        "",
        "",
        "1 Handset",
        "2 Handsets",
        "3 Handsets",
        "5 Handsets",
    ],
};
const DPI: Slot = Slot {
    unit: Unit::Measure,
    pos: Pos::Post,
    values: &["", "", "", "8000 DPI", "16000 DPI", "25600 DPI"],
};
const KEY_LAYOUT: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Post,
    values: &["", "", "", "US Layout", "UK Layout", "QWERTZ"],
};
const BATTERY_MAH: Slot = Slot {
    unit: Unit::Measure,
    pos: Pos::Pre,
    values: &["", "", "", "1100mAh", "2000mAh", "2800mAh"],
};
const SOCK_SIZE: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Post,
    values: &["", "Shoe Size 6-12", "Shoe Size 10-13", "Medium", "Large"],
};
const COFFEE_SIZE: Slot = Slot {
    unit: Unit::Plain,
    pos: Pos::Post,
    values: &["", "10 oz", "12 oz Bag", "24 Count", "32 oz", "72 Count"],
};

static CATEGORIES: &[Category] = &[
    Category {
        path: "Electronics > Audio > Headphones",
        dept: Dept::Electronics,
        weight: 30,
        brands: &["Sony", "Bose", "Apple", "JBL", "Sennheiser", "Beats"],
        nouns: &["Headphones", "Earbuds", "Headset", "Earphones"],
        features: &[
            "Wireless",
            "Noise Cancelling",
            "Bluetooth",
            "Over-Ear",
            "In-Ear",
            "On-Ear",
            "True Wireless",
            "Sport",
            "Studio",
            "Foldable",
            "Hi-Res Audio",
            "Gaming",
            "Open-Back",
        ],
        benefits: &[
            "up to 30 hours of battery life",
            "quick charging",
            "intuitive touch controls",
            "a built-in microphone for clear calls",
            "deep, punchy bass",
            "a lightweight, comfortable fit",
            "multipoint Bluetooth pairing",
        ],
        slots: &[COLOUR],
        codes: &["pp-9999AA9", "ppAA999", "ppp9-99A"],
        code_pct: 55,
        price: (1999, 39999),
        compat: Compat::No,
    },
    Category {
        path: "Electronics > Audio > Speakers",
        dept: Dept::Electronics,
        weight: 20,
        brands: &["JBL", "Bose", "Sony", "Ultimate Ears", "Anker", "Marshall"],
        nouns: &[
            "Bluetooth Speaker",
            "Portable Speaker",
            "Smart Speaker",
            "Soundbar",
            "Party Speaker",
        ],
        features: &[
            "Portable",
            "Waterproof",
            "Wireless",
            "IPX7",
            "Rugged",
            "360 Degree",
            "Outdoor",
            "Stereo",
            "Wi-Fi",
            "Dolby Atmos",
        ],
        benefits: &[
            "room-filling 360-degree sound",
            "up to 20 hours of playtime",
            "a waterproof, dustproof design",
            "PartyBoost pairing with a second speaker",
            "voice assistant support",
        ],
        slots: &[COLOUR],
        codes: &["ppAA99", "pp-AA999", "pppAA9"],
        code_pct: 45,
        price: (2499, 49999),
        compat: Compat::No,
    },
    Category {
        path: "Electronics > Computer Accessories > Keyboards",
        dept: Dept::Electronics,
        weight: 20,
        brands: &[
            "Logitech",
            "Microsoft",
            "Razer",
            "Corsair",
            "Keychron",
            "HyperX",
        ],
        nouns: &[
            "Keyboard",
            "Mechanical Keyboard",
            "Wireless Keyboard",
            "Keyboard and Mouse Combo",
        ],
        features: &[
            "Advanced",
            "Illuminated",
            "Wireless",
            "Backlit",
            "Ergonomic",
            "Compact",
            "Full-Size",
            "Tenkeyless",
            "RGB",
            "Low-Profile",
            "Bluetooth",
            "Multi-Device",
            "Quiet",
        ],
        benefits: &[
            "comfortable, quiet typing",
            "smart backlighting",
            "switching between three devices",
            "a rechargeable battery that lasts for months",
            "hot-swappable switches",
        ],
        slots: &[KEY_LAYOUT, COLOUR_OPT],
        codes: &["qqq-999999", "AA9-99999", "ppAA-999"],
        code_pct: 60,
        price: (1999, 22999),
        compat: Compat::No,
    },
    Category {
        path: "Electronics > Computer Accessories > Mice",
        dept: Dept::Electronics,
        weight: 18,
        brands: &[
            "Logitech",
            "Razer",
            "Microsoft",
            "Corsair",
            "SteelSeries",
            "HP",
        ],
        nouns: &[
            "Mouse",
            "Gaming Mouse",
            "Wireless Mouse",
            "Trackball",
            "Mouse Pad",
        ],
        features: &[
            "Wireless",
            "Ergonomic",
            "Optical",
            "Rechargeable",
            "Silent",
            "Vertical",
            "Lightweight",
            "RGB",
            "Bluetooth",
            "Ambidextrous",
        ],
        benefits: &[
            "precise optical tracking",
            "customizable buttons",
            "a long-lasting rechargeable battery",
            "silent clicks",
            "a contoured, ergonomic shape",
        ],
        slots: &[DPI, COLOUR],
        codes: &["qqq-999999", "ppAA99", "pp-99999"],
        code_pct: 55,
        price: (999, 14999),
        compat: Compat::No,
    },
    Category {
        path: "Electronics > Computers > Monitors",
        dept: Dept::Electronics,
        weight: 15,
        brands: &["Dell", "LG", "Samsung", "ASUS"],
        nouns: &["Monitor", "Gaming Monitor", "Curved Monitor", "LED Monitor"],
        features: &[
            "Full HD",
            "4K UHD",
            "QHD",
            "IPS",
            "Curved",
            "Ultrawide",
            "144Hz",
            "165Hz",
            "HDR",
            "FreeSync",
            "Frameless",
            "USB-C",
            "Height Adjustable",
        ],
        benefits: &[
            "vivid colors from wide viewing angles",
            "a fast refresh rate for smooth motion",
            "a slim, three-sided borderless design",
            "built-in speakers",
            "eye-care flicker-free technology",
        ],
        slots: &[SCREEN_MONITOR],
        codes: &["p9999AAA", "pp99AA999", "ppp99A-A"],
        code_pct: 75,
        price: (9999, 99999),
        compat: Compat::No,
    },
    Category {
        path: "Electronics > Computers > Laptops",
        dept: Dept::Electronics,
        weight: 18,
        brands: &["HP", "Dell", "Lenovo", "Apple", "ASUS", "Acer"],
        nouns: &[
            "Laptop",
            "Notebook",
            "Chromebook",
            "2-in-1 Laptop",
            "Gaming Laptop",
        ],
        features: &[
            "Thin and Light",
            "Touchscreen",
            "Full HD",
            "Backlit Keyboard",
            "Business",
            "Fingerprint Reader",
            "Wi-Fi 6",
            "Convertible",
        ],
        benefits: &[
            "all-day battery life",
            "a fast solid-state drive",
            "a crisp anti-glare display",
            "Windows 11 Home",
            "a lightweight aluminum chassis",
        ],
        slots: &[SCREEN_LAPTOP, CPU, RAM, LAPTOP_SSD, COLOUR_OPT],
        codes: &["99-AA9999AA", "qqAX99X9AA", "A9999-9999AAA"],
        code_pct: 50,
        price: (19999, 249999),
        compat: Compat::No,
    },
    Category {
        path: "Electronics > Computers > Tablets",
        dept: Dept::Electronics,
        weight: 12,
        brands: &["Apple", "Samsung", "Amazon", "Lenovo"],
        nouns: &["Tablet", "Tablet PC", "E-Reader"],
        features: &[
            "Wi-Fi",
            "Wi-Fi + Cellular",
            "HD Display",
            "Kids Edition",
            "Octa-Core",
            "Lightweight",
        ],
        benefits: &[
            "a brilliant Liquid Retina display",
            "up to 12 hours of battery life",
            "stereo speakers",
            "parental controls",
            "fast, fluid performance",
        ],
        slots: &[SCREEN_TABLET, STORAGE_SMALL, COLOUR],
        codes: &["pp9A9LL/A", "pp-A999AAAAA"],
        code_pct: 45,
        price: (7999, 129999),
        compat: Compat::No,
    },
    Category {
        path: "Electronics > Storage > USB Flash Drives",
        dept: Dept::Electronics,
        weight: 16,
        brands: &["SanDisk", "Kingston", "Samsung", "PNY", "Lexar", "Verbatim"],
        nouns: &["USB Flash Drive", "Thumb Drive", "Flash Drive", "USB Stick"],
        features: &[
            "USB 3.0",
            "USB 3.1",
            "USB-C",
            "High Speed",
            "Dual Drive",
            "Metal",
            "Swivel",
            "Retractable",
            "Low-Profile",
        ],
        benefits: &[
            "read speeds up to 400MB/s",
            "password protection",
            "a durable metal casing",
            "a handy keyring loop",
            "plug-and-play convenience",
        ],
        slots: &[STORAGE_SMALL, PACK],
        codes: &["ppAA99-999A-A99", "ppA/99AA", "ppAA9-999"],
        code_pct: 60,
        price: (499, 8999),
        compat: Compat::No,
    },
    Category {
        path: "Electronics > Storage > Memory Cards",
        dept: Dept::Electronics,
        weight: 12,
        brands: &["SanDisk", "Samsung", "Lexar", "Kingston"],
        nouns: &[
            "microSD Card",
            "SD Card",
            "microSDXC Card",
            "Memory Card",
            "CFexpress Card",
        ],
        features: &[
            "UHS-I",
            "U3",
            "V30",
            "A2",
            "Class 10",
            "Extreme",
            "High Endurance",
            "Pro Plus",
            "4K UHD",
        ],
        benefits: &[
            "transfer speeds up to 170MB/s",
            "4K UHD video recording",
            "a full-size SD adapter",
            "waterproof, shockproof construction",
        ],
        slots: &[STORAGE_SMALL, PACK],
        codes: &["pp-AAA999A/AA", "ppAAAA-999A-AA99A"],
        code_pct: 65,
        price: (699, 19999),
        compat: Compat::No,
    },
    Category {
        path: "Electronics > Storage > Drives",
        dept: Dept::Electronics,
        weight: 14,
        brands: &["Samsung", "Seagate", "WD", "SanDisk"],
        nouns: &[
            "Portable SSD",
            "External Hard Drive",
            "Internal SSD",
            "NVMe SSD",
            "Desktop Hard Drive",
        ],
        features: &[
            "USB 3.2 Gen 2",
            "Rugged",
            "Portable",
            "PCIe Gen 4",
            "M.2 2280",
            "SATA III",
            "Shock Resistant",
            "Backup",
        ],
        benefits: &[
            "sequential reads up to 7,000MB/s",
            "automatic backup software",
            "hardware encryption",
            "a compact, pocket-sized design",
            "a five-year limited warranty",
        ],
        slots: &[STORAGE_LARGE, COLOUR_OPT],
        codes: &["pp-A9A9A9AA", "ppAA9999999", "ppAA99A9AAA"],
        code_pct: 65,
        price: (3999, 39999),
        compat: Compat::No,
    },
    Category {
        path: "Electronics > Cell Phone Accessories > Cases",
        dept: Dept::Electronics,
        weight: 22,
        brands: &[
            "OtterBox",
            "Spigen",
            "Apple",
            "Samsung",
            "Case-Mate",
            "ZAGG",
        ],
        nouns: &[
            "Case",
            "Phone Case",
            "Cover",
            "Wallet Case",
            "Screen Protector",
        ],
        features: &[
            "Slim",
            "Shockproof",
            "Clear",
            "Rugged",
            "MagSafe Compatible",
            "Drop Protection",
            "Heavy Duty",
            "Silicone",
            "Leather",
            "Protective",
        ],
        benefits: &[
            "raised edges to protect the screen and camera",
            "a slim, grippy profile",
            "wireless charging compatibility",
            "military-grade drop protection",
        ],
        slots: &[PHONE_MODEL, COLOUR],
        codes: &["99-99999", "AAA99999"],
        code_pct: 25,
        price: (999, 5999),
        compat: Compat::No,
    },
    Category {
        path: "Electronics > Cell Phone Accessories > Chargers & Cables",
        dept: Dept::Electronics,
        weight: 22,
        brands: &[
            "Anker",
            "Belkin",
            "Apple",
            "Samsung",
            "UGREEN",
            "Amazon Basics",
        ],
        nouns: &[
            "USB-C Charger",
            "Wall Charger",
            "Charging Cable",
            "Power Bank",
            "Car Charger",
            "Wireless Charger",
            "HDMI Cable",
            "USB-C to Lightning Cable",
        ],
        features: &[
            "Fast Charging",
            "GaN",
            "Braided",
            "Dual Port",
            "Foldable",
            "PD",
            "MagSafe",
            "Compact",
            "3-in-1",
        ],
        benefits: &[
            "fast charging for phones, tablets and laptops",
            "a foldable plug for travel",
            "a durable braided nylon jacket",
            "overheat and surge protection",
        ],
        slots: &[WATT_CHARGER, CABLE_LENGTH, PACK, COLOUR_OPT],
        codes: &["p9999", "AAA999AAAA", "ppAA9-999"],
        code_pct: 45,
        price: (799, 9999),
        compat: Compat::No,
    },
    Category {
        path: "Electronics > TV & Video > Televisions",
        dept: Dept::Electronics,
        weight: 14,
        brands: &["Samsung", "LG", "Sony", "TCL"],
        nouns: &["Smart TV", "LED TV", "OLED TV", "QLED TV", "Television"],
        features: &[
            "4K UHD",
            "HDR",
            "Crystal UHD",
            "120Hz",
            "Dolby Vision",
            "Google TV",
            "Roku TV",
            "Alexa Built-in",
            "Local Dimming",
            "8K",
        ],
        benefits: &[
            "vivid 4K picture quality",
            "built-in streaming apps",
            "voice control",
            "a low-latency game mode",
            "Dolby Atmos sound",
        ],
        slots: &[SCREEN_TV, MODEL_YEAR],
        codes: &["pp99AA9999AAAA", "pp-99A99A", "pppp99A9AAA"],
        code_pct: 70,
        price: (12999, 299999),
        compat: Compat::No,
    },
    Category {
        path: "Electronics > Projectors > Projector Lamps",
        dept: Dept::Electronics,
        weight: 6,
        brands: &["Epson", "BenQ", "Optoma", "ViewSonic"],
        nouns: &[
            "Replacement Lamp",
            "Projector Lamp",
            "Lamp Module",
            "Projector Bulb",
        ],
        features: &[
            "Original",
            "OEM",
            "Genuine",
            "Compatible",
            "High Brightness",
            "Long Life",
        ],
        benefits: &[
            "original brightness and color",
            "a lamp life of up to 4,000 hours",
            "tool-free installation",
            "a pre-mounted housing",
        ],
        slots: &[PACK],
        codes: &["pppAA999", "9A.A9A99.999", "ppA-AA999A"],
        code_pct: 95,
        price: (2999, 24999),
        compat: Compat::Model,
    },
    Category {
        path: "Electronics > Printers > Ink & Toner",
        dept: Dept::Electronics,
        weight: 16,
        brands: &["HP", "Canon", "Epson", "Brother", "Lexmark", "Xerox"],
        nouns: &[
            "Ink Cartridge",
            "Toner Cartridge",
            "Ink Bottle",
            "Printhead",
        ],
        features: &[
            "High Yield",
            "Standard Yield",
            "Original",
            "Combo",
            "XL",
            "Remanufactured",
            "Compatible",
        ],
        benefits: &[
            "sharp, smudge-resistant text",
            "up to 3,000 pages per cartridge",
            "consistent, reliable printing",
            "easy installation",
        ],
        slots: &[INK_COLOUR, PACK],
        codes: &["AA999AA", "ppp-999", "pp-999AA", "A999AA999"],
        code_pct: 95,
        price: (1499, 14999),
        compat: Compat::Model,
    },
    Category {
        path: "Electronics > Printers > Printers & Scanners",
        dept: Dept::Electronics,
        weight: 8,
        brands: &["HP", "Canon", "Epson", "Brother"],
        nouns: &[
            "All-in-One Printer",
            "Inkjet Printer",
            "Laser Printer",
            "Photo Printer",
            "Document Scanner",
        ],
        features: &[
            "Wireless",
            "Color",
            "Monochrome",
            "Duplex",
            "Compact",
            "Home Office",
            "Mobile Printing",
        ],
        benefits: &[
            "automatic two-sided printing",
            "a 250-sheet paper tray",
            "printing from your phone",
            "fast print speeds up to 36 ppm",
        ],
        slots: &[COLOUR_OPT],
        codes: &["ppp-A9999AA", "AA9999", "pppA9999AA"],
        code_pct: 85,
        price: (6999, 59999),
        compat: Compat::No,
    },
    Category {
        path: "Electronics > Cameras > Cameras & Lenses",
        dept: Dept::Electronics,
        weight: 10,
        brands: &["Canon", "Sony", "Nikon", "Fujifilm"],
        nouns: &[
            "Mirrorless Camera",
            "Digital Camera",
            "DSLR Camera",
            "Action Camera",
            "Camera Lens",
            "Instant Camera",
        ],
        features: &[
            "4K Video",
            "Full Frame",
            "Compact",
            "Waterproof",
            "Stabilized",
            "Wi-Fi",
            "Body Only",
            "Kit",
        ],
        benefits: &[
            "fast, accurate autofocus",
            "in-body image stabilization",
            "4K video recording",
            "a vari-angle touchscreen",
        ],
        slots: &[MEGAPIXELS, COLOUR_OPT],
        codes: &["pppp-9A9", "A9999", "ppppA-999"],
        code_pct: 70,
        price: (14999, 349999),
        compat: Compat::No,
    },
    Category {
        path: "Electronics > Networking > Routers & Switches",
        dept: Dept::Electronics,
        weight: 10,
        brands: &["TP-Link", "Netgear", "ASUS", "Linksys"],
        nouns: &[
            "Wi-Fi Router",
            "Mesh Wi-Fi System",
            "Range Extender",
            "Network Switch",
            "Access Point",
            "Cable Modem",
        ],
        features: &[
            "Dual Band",
            "Tri-Band",
            "Wi-Fi 6",
            "Wi-Fi 6E",
            "Gigabit",
            "Smart",
            "Unmanaged",
            "Gaming",
            "Whole Home",
            "PoE",
        ],
        benefits: &[
            "coverage up to 3,000 sq. ft.",
            "speeds up to 3 Gbps",
            "easy app-based setup",
            "built-in parental controls",
        ],
        slots: &[PORTS, PACK],
        codes: &["AAAA9999", "p9999-999AAA", "ppp-9999A"],
        code_pct: 70,
        price: (1999, 49999),
        compat: Compat::No,
    },
    Category {
        path: "Electronics > Smart Home",
        dept: Dept::Electronics,
        weight: 14,
        brands: &["Amazon", "Google", "Philips Hue", "Ring"],
        nouns: &[
            "Smart Plug",
            "Video Doorbell",
            "Security Camera",
            "Smart Thermostat",
            "Smart Display",
            "Motion Sensor",
        ],
        features: &[
            "Wi-Fi",
            "Indoor",
            "Outdoor",
            "Alexa Compatible",
            "1080p HD",
            "2K",
            "Two-Way Audio",
            "Night Vision",
            "Battery Powered",
            "Wireless",
        ],
        benefits: &[
            "remote control from the companion app",
            "motion alerts on your phone",
            "voice control with Alexa or Google Assistant",
            "hub-free setup",
        ],
        slots: &[PACK, COLOUR_OPT],
        codes: &["ppAA999A9", "p99AAA-AA", "ppA9999"],
        code_pct: 35,
        price: (1499, 24999),
        compat: Compat::No,
    },
    Category {
        path: "Electronics > Telephones",
        dept: Dept::Electronics,
        weight: 5,
        brands: &["Panasonic", "VTech", "AT&T", "Motorola"],
        nouns: &[
            "Cordless Phone",
            "Corded Phone",
            "Landline Phone",
            "Conference Phone",
            "IP Phone",
        ],
        features: &[
            "Expandable",
            "DECT 6.0",
            "Digital",
            "Caller ID",
            "Speakerphone",
            "Big Button",
            "Amplified",
            "Call Blocking",
        ],
        benefits: &[
            "a built-in answering machine",
            "a backlit display and keypad",
            "long-range DECT coverage",
            "one-touch call blocking",
        ],
        slots: &[HANDSETS, COLOUR_OPT],
        codes: &["pp-AA9999A", "AA9999-9"],
        code_pct: 80,
        price: (1999, 14999),
        compat: Compat::No,
    },
    Category {
        path: "Electronics > Batteries",
        dept: Dept::Electronics,
        weight: 10,
        brands: &["Duracell", "Energizer", "Amazon Basics", "Panasonic"],
        nouns: &[
            "AA Batteries",
            "AAA Batteries",
            "9V Batteries",
            "C Batteries",
            "D Batteries",
            "Coin Cell Batteries",
        ],
        features: &[
            "Alkaline",
            "Rechargeable",
            "Long Lasting",
            "Lithium",
            "Pre-Charged",
            "High Capacity",
            "Ultra",
        ],
        benefits: &[
            "a 10-year shelf life",
            "reliable power for everyday devices",
            "up to 2,100 recharge cycles",
            "leak-resistant construction",
        ],
        slots: &[BATTERY_MAH, PACK_BULK],
        codes: &["pp9999A9", "AAA-A-99AA"],
        code_pct: 25,
        price: (499, 4999),
        compat: Compat::No,
    },
    Category {
        path: "Office Products > Writing Instruments",
        dept: Dept::Office,
        weight: 14,
        brands: &["Pilot", "BIC", "Paper Mate", "Sharpie"],
        nouns: &[
            "Gel Pens",
            "Ballpoint Pens",
            "Rollerball Pens",
            "Permanent Markers",
            "Highlighters",
            "Mechanical Pencils",
            "Fountain Pen",
        ],
        features: &[
            "Retractable",
            "Fine Point",
            "Medium Point",
            "Quick Dry",
            "Premium",
            "Refillable",
            "Smear Proof",
            "Ultra Fine",
        ],
        benefits: &[
            "smooth, skip-free writing",
            "a comfortable rubber grip",
            "quick-drying, smear-resistant ink",
            "refillable barrels",
        ],
        slots: &[PEN_TIP, PACK, PEN_COLOUR],
        codes: &["99999", "AAA99-AA"],
        code_pct: 30,
        price: (299, 2999),
        compat: Compat::No,
    },
    Category {
        path: "Office Products > Paper",
        dept: Dept::Office,
        weight: 8,
        brands: &["HP", "Hammermill", "Navigator", "Amazon Basics"],
        nouns: &[
            "Printer Paper",
            "Copy Paper",
            "Cardstock",
            "Photo Paper",
            "Legal Pads",
        ],
        features: &[
            "Multipurpose",
            "Bright White",
            "20 lb",
            "24 lb",
            "Recycled",
            "Acid Free",
            "Glossy",
            "Matte",
            "Premium",
        ],
        benefits: &[
            "jam-free performance in laser and inkjet printers",
            "bright, vivid prints",
            "acid-free pages that resist yellowing",
        ],
        slots: &[PAPER_SIZE, SHEETS],
        codes: &["999999", "AA9999"],
        code_pct: 20,
        price: (599, 5999),
        compat: Compat::No,
    },
    Category {
        path: "Office Products > Binders & Filing",
        dept: Dept::Office,
        weight: 7,
        brands: &["Avery", "Cardinal", "Wilson Jones", "Smead"],
        nouns: &[
            "Binder",
            "Three Ring Binder",
            "File Folders",
            "Hanging File Folders",
            "Sheet Protectors",
            "Dividers",
        ],
        features: &[
            "Heavy Duty",
            "Durable View",
            "Letter Size",
            "One Touch",
            "Slant D-Ring",
            "Poly",
            "Reinforced",
            "Clear",
        ],
        benefits: &[
            "a clear overlay for custom covers",
            "gap-free rings that keep pages secure",
            "reinforced tabs",
        ],
        slots: &[RING_SIZE, PACK, COLOUR_OPT],
        codes: &["99999", "AAA99999"],
        code_pct: 35,
        price: (399, 3999),
        compat: Compat::No,
    },
    Category {
        path: "Office Products > Labels & Label Makers",
        dept: Dept::Office,
        weight: 6,
        brands: &["Brother", "DYMO", "Avery", "Epson"],
        nouns: &[
            "Label Maker",
            "Label Tape",
            "Shipping Labels",
            "Address Labels",
            "Label Printer",
            "Thermal Labels",
        ],
        features: &[
            "Portable",
            "Handheld",
            "Laminated",
            "Thermal",
            "Direct Thermal",
            "Permanent",
            "Removable",
            "Waterproof",
            "Bluetooth",
        ],
        benefits: &[
            "durable labels that resist fading",
            "easy one-touch formatting",
            "printing from a PC or phone",
        ],
        slots: &[TAPE_WIDTH, PACK, LABEL_COLOUR],
        codes: &["pp-A999", "AAA-999", "9999"],
        code_pct: 80,
        price: (799, 12999),
        compat: Compat::Model,
    },
    Category {
        path: "Office Products > Desk Supplies",
        dept: Dept::Office,
        weight: 8,
        brands: &["Swingline", "Bostitch", "Scotch", "Post-it"],
        nouns: &[
            "Stapler",
            "Staples",
            "Tape Dispenser",
            "Sticky Notes",
            "Paper Shredder",
            "Desk Organizer",
            "Scissors",
            "Paper Clips",
        ],
        features: &[
            "Heavy Duty",
            "Jam Free",
            "Desktop",
            "Cross-Cut",
            "Micro-Cut",
            "Mesh",
            "Electric",
            "Compact",
            "Super Sticky",
            "Soft Grip",
        ],
        benefits: &[
            "jam-free operation",
            "a 20-sheet capacity",
            "a non-skid base",
            "a compact footprint",
        ],
        slots: &[PACK, COLOUR_OPT],
        codes: &["A999999", "99-999"],
        code_pct: 35,
        price: (199, 19999),
        compat: Compat::No,
    },
    Category {
        path: "Home & Kitchen > Cookware",
        dept: Dept::Kitchen,
        weight: 14,
        brands: &["T-fal", "Cuisinart", "Calphalon", "Lodge"],
        nouns: &[
            "Frying Pan",
            "Skillet",
            "Cookware Set",
            "Dutch Oven",
            "Saucepan",
            "Stock Pot",
            "Wok",
            "Grill Pan",
        ],
        features: &[
            "Nonstick",
            "Stainless Steel",
            "Cast Iron",
            "Hard Anodized",
            "Ceramic",
            "Induction Compatible",
            "Oven Safe",
            "Dishwasher Safe",
            "Pre-Seasoned",
            "Tri-Ply",
        ],
        benefits: &[
            "even heat distribution",
            "a durable nonstick coating",
            "riveted stay-cool handles",
            "oven safety up to 500 degrees",
        ],
        slots: &[PAN_SIZE, COLOUR_OPT],
        codes: &["A999AA", "999-99A", "pAA9"],
        code_pct: 30,
        price: (1499, 34999),
        compat: Compat::No,
    },
    Category {
        path: "Home & Kitchen > Small Appliances",
        dept: Dept::Kitchen,
        weight: 16,
        brands: &[
            "Ninja",
            "Hamilton Beach",
            "KitchenAid",
            "Cuisinart",
            "Breville",
            "Instant Pot",
        ],
        nouns: &[
            "Blender",
            "Air Fryer",
            "Toaster",
            "Electric Kettle",
            "Stand Mixer",
            "Food Processor",
            "Slow Cooker",
            "Pressure Cooker",
            "Toaster Oven",
        ],
        features: &[
            "Digital",
            "Programmable",
            "Professional",
            "Compact",
            "Stainless Steel",
            "Multi-Use",
            "Cordless",
            "Variable Speed",
            "Smart",
            "Countertop",
        ],
        benefits: &[
            "one-touch presets",
            "dishwasher-safe parts",
            "a powerful motor",
            "automatic shut-off",
            "a compact countertop footprint",
        ],
        slots: &[WATT_APPLIANCE, APPLIANCE_CAPACITY, COLOUR_OPT],
        codes: &["AA999", "99999", "ppp999AAAA"],
        code_pct: 50,
        price: (1999, 49999),
        compat: Compat::No,
    },
    Category {
        path: "Home & Kitchen > Coffee Makers",
        dept: Dept::Kitchen,
        weight: 10,
        brands: &["Keurig", "Nespresso", "Mr. Coffee", "De'Longhi"],
        nouns: &[
            "Coffee Maker",
            "Espresso Machine",
            "Single Serve Coffee Maker",
            "Coffee Grinder",
            "French Press",
        ],
        features: &[
            "Programmable",
            "Single Serve",
            "Drip",
            "Burr",
            "Stainless Steel",
            "Thermal",
            "Compact",
            "Automatic",
        ],
        benefits: &[
            "a removable water reservoir",
            "brew-strength control",
            "a built-in milk frother",
            "a keep-warm carafe",
        ],
        slots: &[CUPS, COLOUR_OPT],
        codes: &["AA-999", "ppA9999AA", "99999"],
        code_pct: 45,
        price: (1999, 69999),
        compat: Compat::No,
    },
    Category {
        path: "Home & Kitchen > Cutlery & Knives",
        dept: Dept::Kitchen,
        weight: 8,
        brands: &["Henckels", "Wusthof", "Victorinox", "Cuisinart"],
        nouns: &[
            "Chef's Knife",
            "Knife Set",
            "Paring Knife",
            "Santoku Knife",
            "Steak Knives",
            "Knife Block Set",
            "Bread Knife",
            "Kitchen Shears",
        ],
        features: &[
            "German Stainless Steel",
            "Forged",
            "High Carbon",
            "Ergonomic",
            "Razor Sharp",
            "Japanese",
            "Serrated",
            "Full Tang",
            "Dishwasher Safe",
        ],
        benefits: &[
            "a precision-honed edge",
            "a balanced, comfortable handle",
            "stain-resistant steel",
        ],
        slots: &[KNIFE_SIZE, COLOUR_OPT],
        codes: &["99999-999", "9.9999.99A"],
        code_pct: 30,
        price: (999, 29999),
        compat: Compat::No,
    },
    Category {
        path: "Home & Kitchen > Food Storage",
        dept: Dept::Kitchen,
        weight: 8,
        brands: &["Rubbermaid", "Pyrex", "Ziploc", "Glad"],
        nouns: &[
            "Food Storage Containers",
            "Storage Bags",
            "Meal Prep Containers",
            "Glass Containers",
            "Freezer Bags",
            "Canister Set",
        ],
        features: &[
            "BPA Free",
            "Airtight",
            "Leak-Proof",
            "Microwave Safe",
            "Stackable",
            "Reusable",
            "Glass",
            "Easy Find Lids",
            "Gallon",
        ],
        benefits: &[
            "lids that snap on securely",
            "freezer-to-microwave convenience",
            "space-saving nesting",
        ],
        slots: &[CONTAINER_PIECES, PACK],
        codes: &["9999999", "99999"],
        code_pct: 20,
        price: (699, 4999),
        compat: Compat::No,
    },
    Category {
        path: "Tools & Home Improvement > Power Tools",
        dept: Dept::Tools,
        weight: 16,
        brands: &[
            "DeWalt",
            "Milwaukee",
            "Makita",
            "Bosch",
            "Ryobi",
            "Black+Decker",
        ],
        nouns: &[
            "Cordless Drill",
            "Impact Driver",
            "Circular Saw",
            "Reciprocating Saw",
            "Angle Grinder",
            "Orbital Sander",
            "Jigsaw",
            "Combo Kit",
            "Oscillating Tool",
        ],
        features: &[
            "Brushless",
            "Cordless",
            "Compact",
            "Variable Speed",
            "Lithium-Ion",
            "Heavy Duty",
            "Keyless Chuck",
            "LED Light",
        ],
        benefits: &[
            "a high-efficiency brushless motor",
            "a built-in LED work light",
            "a two-speed transmission",
            "a compact, lightweight design",
        ],
        slots: &[VOLTAGE, TOOL_KIT],
        codes: &["ppp999A9", "9999-99", "ppA999", "ppp99A-999A99"],
        code_pct: 80,
        price: (4999, 39999),
        compat: Compat::No,
    },
    Category {
        path: "Tools & Home Improvement > Hand Tools",
        dept: Dept::Tools,
        weight: 12,
        brands: &["Stanley", "Craftsman", "Klein Tools", "Irwin"],
        nouns: &[
            "Screwdriver Set",
            "Hammer",
            "Socket Set",
            "Wrench Set",
            "Pliers",
            "Tape Measure",
            "Utility Knife",
            "Level",
            "Hex Key Set",
        ],
        features: &[
            "Magnetic",
            "Ratcheting",
            "Adjustable",
            "SAE/Metric",
            "Fiberglass",
            "Cushion Grip",
            "Professional",
            "Chrome Vanadium",
            "Heavy Duty",
            "Insulated",
        ],
        benefits: &[
            "a comfortable cushion grip",
            "hardened, tempered steel",
            "a sturdy storage case",
            "a lifetime warranty",
        ],
        slots: &[TOOL_PIECES],
        codes: &["AAAA99999", "99-999", "99999", "99 99 999"],
        code_pct: 55,
        price: (799, 19999),
        compat: Compat::No,
    },
    Category {
        path: "Tools & Home Improvement > Fasteners",
        dept: Dept::Tools,
        weight: 8,
        brands: &["Hillman", "Simpson Strong-Tie", "GRK", "Spax"],
        nouns: &[
            "Wood Screws",
            "Deck Screws",
            "Drywall Anchors",
            "Machine Screws",
            "Finish Nails",
            "Wall Anchors Kit",
            "Hex Bolts",
        ],
        features: &[
            "Zinc Plated",
            "Stainless Steel",
            "Coarse Thread",
            "Self-Drilling",
            "Galvanized",
            "Phillips Head",
            "Torx",
            "Exterior",
            "Flat Head",
        ],
        benefits: &[
            "corrosion-resistant coating",
            "a sharp point for fast starts",
            "no pre-drilling needed",
        ],
        slots: &[FASTENER_SIZE, FASTENER_COUNT],
        codes: &["999999", "AAAA99999"],
        code_pct: 35,
        price: (399, 4999),
        compat: Compat::No,
    },
    Category {
        path: "Toys & Games > Building Sets",
        dept: Dept::Toys,
        weight: 10,
        brands: &["LEGO", "Mega Bloks", "K'NEX", "Playmobil"],
        nouns: &[
            "Building Set",
            "Building Kit",
            "Construction Set",
            "Building Blocks",
            "Magnetic Tiles",
        ],
        features: &[
            "Creative",
            "STEM",
            "Educational",
            "Classic",
            "Deluxe",
            "Starter",
            "Collector's",
        ],
        benefits: &[
            "hours of creative building",
            "step-by-step instructions",
            "compatibility with other sets",
        ],
        slots: &[SET_PIECES, AGES],
        codes: &["99999", "AAA99"],
        code_pct: 75,
        price: (999, 79999),
        compat: Compat::No,
    },
    Category {
        path: "Toys & Games > Games & Puzzles",
        dept: Dept::Toys,
        weight: 9,
        brands: &["Hasbro", "Ravensburger", "Mattel", "Buffalo Games"],
        nouns: &[
            "Board Game",
            "Jigsaw Puzzle",
            "Card Game",
            "Strategy Game",
            "Party Game",
            "Family Game",
        ],
        features: &[
            "Classic",
            "Family",
            "Travel",
            "Cooperative",
            "Kids",
            "Adult",
            "Fun",
            "Educational",
        ],
        benefits: &[
            "quick setup and easy rules",
            "thick, snug-fitting pieces",
            "replay value for family game night",
        ],
        slots: &[PUZZLE_PIECES, PLAYERS, AGES],
        codes: &["A9999", "99999", "99 999 9"],
        code_pct: 30,
        price: (999, 5999),
        compat: Compat::No,
    },
    Category {
        path: "Toys & Games > Dolls & Action Figures",
        dept: Dept::Toys,
        weight: 8,
        brands: &["Mattel", "Hasbro", "Barbie", "Hot Wheels"],
        nouns: &[
            "Action Figure",
            "Doll",
            "Fashion Doll",
            "Playset",
            "Die-Cast Car",
            "Vinyl Figure",
            "Plush Toy",
        ],
        features: &[
            "Collectible",
            "Poseable",
            "Articulated",
            "Deluxe",
            "Exclusive",
            "Limited Edition",
            "Interactive",
            "Glow-in-the-Dark",
        ],
        benefits: &[
            "detailed sculpting and paint",
            "multiple points of articulation",
            "included accessories",
        ],
        slots: &[FIGURE_SIZE, PACK],
        codes: &["AAA99", "99999"],
        code_pct: 40,
        price: (599, 9999),
        compat: Compat::No,
    },
    Category {
        path: "Software > Productivity & OS",
        dept: Dept::Software,
        weight: 6,
        brands: &["Microsoft", "Adobe", "Corel", "Intuit"],
        nouns: &["Software", "Suite", "License", "Download"],
        features: &[
            "Home & Student",
            "Professional",
            "Business",
            "Standard",
            "Deluxe",
            "Premier",
            "Premium",
            "Home",
        ],
        benefits: &[
            "classic desktop apps",
            "a one-time purchase",
            "free technical support",
            "cloud storage for your files",
        ],
        slots: &[YEAR, SW_USERS, SW_PLATFORM, SW_TERM],
        codes: &["99A-99999", "99999999"],
        code_pct: 25,
        price: (2999, 49999),
        compat: Compat::No,
    },
    Category {
        path: "Software > Security",
        dept: Dept::Software,
        weight: 5,
        brands: &["Norton", "McAfee", "Bitdefender", "Kaspersky"],
        nouns: &[
            "Antivirus",
            "Internet Security",
            "Total Security",
            "VPN",
            "Antivirus Software",
            "Password Manager",
        ],
        features: &[
            "Premium",
            "Plus",
            "Deluxe",
            "Total",
            "Ultimate",
            "Essential",
        ],
        benefits: &[
            "real-time threat protection",
            "a secure VPN",
            "dark web monitoring",
            "parental controls",
        ],
        slots: &[YEAR, DEVICES, SW_TERM],
        codes: &["99999999", "AA99AAAAAA"],
        code_pct: 15,
        price: (1999, 11999),
        compat: Compat::No,
    },
    Category {
        path: "Video Games > Games",
        dept: Dept::Software,
        weight: 12,
        brands: &["Nintendo", "Sony", "Microsoft", "Electronic Arts"],
        nouns: &["Video Game", "Game"],
        features: &[
            "Standard Edition",
            "Deluxe Edition",
            "Collector's Edition",
            "Game of the Year Edition",
            "Complete Edition",
            "Remastered",
        ],
        benefits: &[
            "an epic single-player campaign",
            "online multiplayer",
            "stunning 4K visuals",
            "bonus in-game content",
        ],
        slots: &[GAME_PLATFORM],
        codes: &["AAAA-99999", "999999"],
        code_pct: 10,
        price: (999, 6999),
        compat: Compat::No,
    },
    Category {
        path: "Video Games > Accessories",
        dept: Dept::Electronics,
        weight: 8,
        brands: &["Sony", "Microsoft", "Nintendo", "PowerA"],
        nouns: &[
            "Wireless Controller",
            "Gaming Headset",
            "Charging Station",
            "Controller",
            "Racing Wheel",
        ],
        features: &[
            "Wireless",
            "Wired",
            "Officially Licensed",
            "Enhanced",
            "Pro",
            "Rechargeable",
            "Ergonomic",
        ],
        benefits: &[
            "responsive, low-latency input",
            "programmable back buttons",
            "a rechargeable battery",
        ],
        slots: &[GAME_PLATFORM, COLOUR],
        codes: &["AAAA-9999", "999-99999-99"],
        code_pct: 35,
        price: (1999, 19999),
        compat: Compat::No,
    },
    Category {
        path: "Clothing > Tops & T-Shirts",
        dept: Dept::Apparel,
        weight: 22,
        brands: &[
            "Hanes",
            "Gildan",
            "Nike",
            "Adidas",
            "Under Armour",
            "Champion",
        ],
        nouns: &[
            "T-Shirt",
            "Crew Neck T-Shirt",
            "Polo Shirt",
            "Tank Top",
            "Long Sleeve Shirt",
            "Hoodie",
            "Sweatshirt",
        ],
        features: &[
            "Cotton",
            "Moisture Wicking",
            "Athletic",
            "Classic Fit",
            "Slim Fit",
            "Heavyweight",
            "Quick-Dry",
            "Performance",
            "Pocket",
            "V-Neck",
            "Dri-FIT",
        ],
        benefits: &[
            "soft, breathable cotton",
            "a tag-free collar",
            "sweat-wicking fabric",
            "a relaxed, classic fit",
        ],
        slots: &[AUDIENCE, APPAREL_SIZE, PACK, APPAREL_COLOUR],
        codes: &["AA9999-999", "9999", "A999"],
        code_pct: 15,
        price: (799, 6999),
        compat: Compat::No,
    },
    Category {
        path: "Clothing > Shoes",
        dept: Dept::Apparel,
        weight: 18,
        brands: &[
            "Nike",
            "Adidas",
            "New Balance",
            "Skechers",
            "ASICS",
            "Brooks",
        ],
        nouns: &[
            "Running Shoes",
            "Sneakers",
            "Walking Shoes",
            "Trail Running Shoes",
            "Slip-On Shoes",
            "Boots",
            "Sandals",
            "Clogs",
        ],
        features: &[
            "Lightweight",
            "Breathable",
            "Memory Foam",
            "Waterproof",
            "Cushioned",
            "Non-Slip",
            "Athletic",
            "Casual",
            "Leather",
        ],
        benefits: &[
            "a responsive foam midsole",
            "a breathable mesh upper",
            "a durable rubber outsole",
            "all-day comfort",
        ],
        slots: &[AUDIENCE, SHOE_SIZE, SHOE_WIDTH, SHOE_COLOUR],
        codes: &["AA9999-999", "A999AA9", "99999-999"],
        code_pct: 20,
        price: (2999, 19999),
        compat: Compat::No,
    },
    Category {
        path: "Clothing > Jackets & Coats",
        dept: Dept::Apparel,
        weight: 10,
        brands: &["The North Face", "Columbia", "Patagonia", "Carhartt"],
        nouns: &[
            "Jacket",
            "Rain Jacket",
            "Puffer Jacket",
            "Fleece Jacket",
            "Parka",
            "Vest",
            "Softshell Jacket",
            "Down Jacket",
        ],
        features: &[
            "Waterproof",
            "Insulated",
            "Packable",
            "Windproof",
            "Hooded",
            "Lightweight",
            "Full-Zip",
            "Water Resistant",
            "Thermal",
        ],
        benefits: &[
            "a water-repellent finish",
            "zippered hand pockets",
            "an adjustable hood",
            "lightweight synthetic insulation",
        ],
        slots: &[AUDIENCE, APPAREL_SIZE, APPAREL_COLOUR],
        codes: &["ppAA9A9A", "9999999"],
        code_pct: 15,
        price: (2999, 39999),
        compat: Compat::No,
    },
    Category {
        path: "Clothing > Socks & Underwear",
        dept: Dept::Apparel,
        weight: 10,
        brands: &["Hanes", "Fruit of the Loom", "Gildan", "Champion"],
        nouns: &[
            "Crew Socks",
            "Ankle Socks",
            "No-Show Socks",
            "Boxer Briefs",
            "Briefs",
            "Athletic Socks",
            "Compression Socks",
        ],
        features: &[
            "Cushioned",
            "Moisture Wicking",
            "Cotton",
            "Breathable",
            "Arch Support",
            "Tagless",
            "Stretch",
            "Merino Wool",
        ],
        benefits: &[
            "a cushioned sole",
            "a no-slip heel grip",
            "a soft, stretchy waistband",
        ],
        slots: &[AUDIENCE, PACK_BULK, SOCK_SIZE, APPAREL_COLOUR],
        codes: &["999999", "A9999"],
        code_pct: 10,
        price: (599, 4999),
        compat: Compat::No,
    },
    Category {
        path: "Home & Kitchen > Bedding",
        dept: Dept::Home,
        weight: 12,
        brands: &["Amazon Basics", "Mellanni", "Utopia Bedding", "Brooklinen"],
        nouns: &[
            "Sheet Set",
            "Comforter",
            "Pillow",
            "Duvet Cover Set",
            "Mattress Topper",
            "Weighted Blanket",
            "Throw Blanket",
            "Mattress Protector",
        ],
        features: &[
            "Microfiber",
            "100% Cotton",
            "Hypoallergenic",
            "Cooling",
            "Deep Pocket",
            "Memory Foam",
            "Egyptian Cotton",
            "Breathable",
            "Down Alternative",
            "400 Thread Count",
        ],
        benefits: &[
            "wrinkle- and fade-resistant fabric",
            "deep pockets that fit mattresses up to 16 inches",
            "breathable, temperature-regulating comfort",
        ],
        slots: &[BED_SIZE, APPAREL_COLOUR],
        codes: &["AAA-999", "A9AAA99999"],
        code_pct: 8,
        price: (1999, 19999),
        compat: Compat::No,
    },
    Category {
        path: "Tools & Home Improvement > Light Bulbs",
        dept: Dept::Home,
        weight: 8,
        brands: &["Philips", "GE", "Sylvania", "Cree"],
        nouns: &[
            "LED Light Bulbs",
            "Light Bulb",
            "Smart Bulb",
            "LED Flood Light",
            "Edison Bulb",
            "LED Strip Lights",
        ],
        features: &[
            "Dimmable",
            "Soft White",
            "Daylight",
            "Energy Efficient",
            "Non-Dimmable",
            "Warm White",
            "Vintage",
            "Color Changing",
            "A19",
            "BR30",
            "E26 Base",
        ],
        benefits: &[
            "a 15,000-hour rated life",
            "flicker-free dimming",
            "lower energy bills",
        ],
        slots: &[BULB_WATT, PACK_BULK, COLOUR_TEMP],
        codes: &["999999", "A99A99AAA"],
        code_pct: 25,
        price: (399, 5999),
        compat: Compat::No,
    },
    Category {
        path: "Household > Cleaning Supplies",
        dept: Dept::Home,
        weight: 12,
        brands: &["Clorox", "Lysol", "Mr. Clean", "Swiffer"],
        nouns: &[
            "Disinfecting Wipes",
            "All-Purpose Cleaner",
            "Sponges",
            "Spin Mop",
            "Vacuum Cleaner",
            "Robot Vacuum",
            "Microfiber Cloths",
        ],
        features: &[
            "Lemon Scent",
            "Fresh Scent",
            "Bleach Free",
            "Heavy Duty",
            "Non-Scratch",
            "Cordless",
            "Bagless",
            "Pet Hair",
            "Multi-Surface",
            "Unscented",
        ],
        benefits: &[
            "protection against 99.9% of household germs",
            "powerful suction",
            "a streak-free shine",
            "washable, reusable pads",
        ],
        slots: &[CLEANER_SIZE, PACK],
        codes: &["AA999", "99999"],
        code_pct: 30,
        price: (299, 59999),
        compat: Compat::No,
    },
    Category {
        path: "Sports & Outdoors > Exercise & Fitness",
        dept: Dept::Outdoor,
        weight: 10,
        brands: &["Bowflex", "CAP Barbell", "Amazon Basics", "Gaiam"],
        nouns: &[
            "Yoga Mat",
            "Dumbbells",
            "Resistance Bands",
            "Kettlebell",
            "Jump Rope",
            "Fitness Tracker",
            "Foam Roller",
            "Smartwatch",
        ],
        features: &[
            "Non-Slip",
            "Adjustable",
            "Neoprene",
            "Cast Iron",
            "Extra Thick",
            "Heart Rate",
            "GPS",
            "Heavy Duty",
            "Foldable",
            "Rubber Hex",
        ],
        benefits: &[
            "a non-slip textured surface",
            "24/7 heart rate tracking",
            "a space-saving design",
            "durable, odor-resistant material",
        ],
        slots: &[FITNESS_WEIGHT, PACK, COLOUR_OPT],
        codes: &["999-99999-99", "AA999AAAA", "AAA-999"],
        code_pct: 30,
        price: (999, 99999),
        compat: Compat::No,
    },
    Category {
        path: "Sports & Outdoors > Camping & Hiking",
        dept: Dept::Outdoor,
        weight: 10,
        brands: &["Coleman", "Stanley", "YETI", "Hydro Flask"],
        nouns: &[
            "Tent",
            "Sleeping Bag",
            "Camping Chair",
            "Water Bottle",
            "Cooler",
            "Backpack",
            "Headlamp",
            "Lantern",
            "Tumbler",
        ],
        features: &[
            "Waterproof",
            "Insulated",
            "Lightweight",
            "Portable",
            "Rechargeable",
            "Ultralight",
            "Folding",
            "Vacuum Insulated",
            "Stainless Steel",
            "Wide Mouth",
            "Dome",
        ],
        benefits: &[
            "ice retention for up to 24 hours",
            "a quick, easy setup",
            "a weather-resistant build",
            "a packable, lightweight design",
        ],
        slots: &[PERSONS, OUTDOOR_CAPACITY, COLOUR_OPT],
        codes: &["9999999999", "AA99-99"],
        code_pct: 15,
        price: (999, 59999),
        compat: Compat::No,
    },
    Category {
        path: "Pet Supplies",
        dept: Dept::Pet,
        weight: 12,
        brands: &["Purina", "Blue Buffalo", "Pedigree", "KONG"],
        nouns: &[
            "Dry Dog Food",
            "Wet Cat Food",
            "Dog Treats",
            "Cat Litter",
            "Dog Toy",
            "Dog Leash",
            "Dog Bed",
            "Pet Carrier",
        ],
        features: &[
            "Grain Free",
            "Natural",
            "Chicken",
            "Salmon",
            "Adult",
            "Puppy",
            "Senior",
            "Clumping",
            "Durable",
            "Small Breed",
            "High Protein",
        ],
        benefits: &[
            "real meat as the first ingredient",
            "a recipe free of artificial flavors",
            "tough, long-lasting construction",
            "odor control",
        ],
        slots: &[PET_BAG, PET_SIZE, PACK],
        codes: &["99999", "AA999"],
        code_pct: 15,
        price: (299, 8999),
        compat: Compat::No,
    },
    Category {
        path: "Beauty & Personal Care",
        dept: Dept::Beauty,
        weight: 16,
        brands: &[
            "Neutrogena",
            "CeraVe",
            "Olay",
            "L'Oreal Paris",
            "Dove",
            "Gillette",
        ],
        nouns: &[
            "Moisturizer",
            "Face Wash",
            "Sunscreen",
            "Shampoo",
            "Body Wash",
            "Electric Shaver",
            "Razor Blades",
            "Hair Dryer",
            "Electric Toothbrush",
            "Mascara",
        ],
        features: &[
            "Hydrating",
            "Fragrance Free",
            "Sensitive Skin",
            "SPF 30",
            "SPF 50",
            "Oil-Free",
            "Daily",
            "Anti-Aging",
            "Gentle",
            "Cordless",
            "Rechargeable",
            "Ionic",
        ],
        benefits: &[
            "hyaluronic acid and ceramides",
            "a dermatologist-tested formula",
            "a close, comfortable shave",
            "long-lasting hydration",
        ],
        slots: &[BEAUTY_VOLUME, PACK],
        codes: &["A9999/99", "9999AA", "999AA"],
        code_pct: 20,
        price: (399, 19999),
        compat: Compat::No,
    },
    Category {
        path: "Automotive > Parts & Accessories",
        dept: Dept::Auto,
        weight: 12,
        brands: &["Bosch", "Armor All", "Meguiar's", "Chemical Guys"],
        nouns: &[
            "Wiper Blades",
            "Car Wax",
            "Oil Filter",
            "Motor Oil",
            "Floor Mats",
            "Jump Starter",
            "Tire Inflator",
            "Air Filter",
            "Dash Cam",
        ],
        features: &[
            "All-Season",
            "Full Synthetic",
            "Heavy Duty",
            "Premium",
            "Custom Fit",
            "Portable",
            "Ceramic",
            "Extended Performance",
            "Beam",
        ],
        benefits: &[
            "streak-free wiping in all weather",
            "long-lasting protection",
            "a precise custom fit",
            "easy installation with no tools",
        ],
        slots: &[WIPER_SIZE, AUTO_VOLUME, PACK],
        codes: &["AA9999", "9999999", "pp-99A"],
        code_pct: 55,
        price: (499, 19999),
        compat: Compat::Vehicle,
    },
    Category {
        path: "Baby Products",
        dept: Dept::Baby,
        weight: 10,
        brands: &["Pampers", "Huggies", "Graco", "Fisher-Price"],
        nouns: &[
            "Diapers",
            "Baby Wipes",
            "Car Seat",
            "Stroller",
            "Baby Bottles",
            "Pacifiers",
            "High Chair",
            "Baby Monitor",
            "Play Yard",
        ],
        features: &[
            "Sensitive",
            "Unscented",
            "Convertible",
            "Lightweight",
            "Anti-Colic",
            "Hypoallergenic",
            "Overnight",
            "Compact Fold",
        ],
        benefits: &[
            "up to 12 hours of leak protection",
            "a one-hand fold",
            "easy-to-clean fabrics",
            "gentle care for delicate skin",
        ],
        slots: &[DIAPER_SIZE, BABY_COUNT, COLOUR_OPT],
        codes: &["9999999", "AA999999"],
        code_pct: 15,
        price: (499, 39999),
        compat: Compat::No,
    },
    Category {
        path: "Grocery > Coffee",
        dept: Dept::Grocery,
        weight: 8,
        brands: &["Starbucks", "Folgers", "Dunkin'", "Maxwell House"],
        nouns: &[
            "K-Cup Pods",
            "Coffee Pods",
            "Ground Coffee",
            "Whole Bean Coffee",
            "Instant Coffee",
        ],
        features: &[
            "Dark Roast",
            "Medium Roast",
            "Light Roast",
            "Decaf",
            "Arabica",
            "Organic",
            "Breakfast Blend",
            "Colombian",
        ],
        benefits: &[
            "rich, smooth flavor",
            "100% arabica beans",
            "a bold, full-bodied taste",
        ],
        slots: &[COFFEE_SIZE, PACK],
        codes: &["99999", "999999"],
        code_pct: 5,
        price: (499, 4999),
        compat: Compat::No,
    },
];

fn dept_uses(dept: Dept) -> &'static [&'static str] {
    match dept {
        Dept::Electronics => &[
            "home and office use",
            "travel",
            "gaming",
            "working from home",
            "students",
            "streaming and video calls",
        ],
        Dept::Office => &[
            "school, home and office",
            "everyday writing",
            "organizing documents",
            "classrooms",
        ],
        Dept::Kitchen => &[
            "everyday cooking",
            "meal prep",
            "entertaining guests",
            "small kitchens",
        ],
        Dept::Tools => &[
            "DIY projects",
            "professional contractors",
            "home repairs",
            "woodworking",
        ],
        Dept::Toys => &[
            "kids ages 6 and up",
            "family game night",
            "birthday gifts",
            "collectors",
        ],
        Dept::Software => &["home users", "small businesses", "students", "families"],
        Dept::Apparel => &[
            "everyday wear",
            "running and training",
            "outdoor activities",
            "layering",
        ],
        Dept::Home => &[
            "bedrooms",
            "guest rooms",
            "everyday cleaning",
            "living rooms",
        ],
        Dept::Outdoor => &[
            "home workouts",
            "camping and hiking",
            "the gym",
            "road trips",
        ],
        Dept::Beauty => &["daily use", "sensitive skin", "travel", "all hair types"],
        Dept::Pet => &["dogs of all sizes", "indoor cats", "puppies", "active pets"],
        Dept::Auto => &[
            "cars, trucks and SUVs",
            "roadside emergencies",
            "all weather conditions",
        ],
        Dept::Baby => &["newborns", "growing toddlers", "busy parents", "travel"],
        Dept::Grocery => &["morning coffee", "office break rooms", "everyday brewing"],
    }
}

/// Other shops' wording for the same feature; applied to relisted titles so exact
/// token overlap between duplicates is imperfect, as in merged feeds.
static SYNONYMS: &[(&str, &[&str])] = &[
    (
        "Noise Cancelling",
        &["Noise-Canceling", "ANC", "Noise Canceling"],
    ),
    ("Wireless", &["Cordless", "Bluetooth", "Wire-Free"]),
    ("Bluetooth", &["BT", "Wireless"]),
    ("True Wireless", &["TWS", "Truly Wireless"]),
    ("Stainless Steel", &["Stainless", "SS", "Stainless-Steel"]),
    ("Nonstick", &["Non-Stick", "Non Stick"]),
    ("Rechargeable", &["USB Rechargeable", "Re-chargeable"]),
    ("Waterproof", &["Water Proof", "Water-Resistant"]),
    ("4K UHD", &["4K Ultra HD", "2160p", "UHD 4K"]),
    ("Full HD", &["1080p", "FHD"]),
    ("Backlit", &["Back-lit", "Illuminated"]),
    ("Ergonomic", &["Ergo", "Comfort"]),
    ("Heavy Duty", &["Heavy-Duty", "HD", "Industrial"]),
    ("Lightweight", &["Light Weight", "Ultralight"]),
    ("Programmable", &["Programable", "Digital"]),
    ("Cordless", &["Battery Powered", "Wireless"]),
    ("Portable", &["Travel", "Compact"]),
    ("High Speed", &["Hi-Speed", "Fast"]),
    ("Fast Charging", &["Fast Charge", "Quick Charge"]),
    ("Moisture Wicking", &["Moisture-Wicking", "Sweat Wicking"]),
    ("Hypoallergenic", &["Hypo-Allergenic", "Allergy Friendly"]),
    (
        "Dishwasher Safe",
        &["Dishwasher-Safe", "Dishwasher Friendly"],
    ),
    ("Brushless", &["Brushless Motor", "BL"]),
    ("Dimmable", &["Dimmable LED", "Dim-able"]),
    ("Premium", &["Deluxe", "Pro"]),
    ("Compact", &["Mini", "Small"]),
    ("Original", &["Genuine", "OEM"]),
    ("High Yield", &["XL", "High-Yield"]),
];

/// Marketplace noise around relisted titles; `true` means it goes in front.
static FLUFF: &[(&str, bool)] = &[
    ("NEW", true),
    ("Genuine", true),
    ("Brand New", true),
    ("Original", true),
    ("(Renewed)", false),
    ("- Retail Packaging", false),
    ("OEM", false),
    ("[Latest Model]", false),
    ("| Free Shipping", false),
    ("(Bulk Packaging)", false),
    ("- 2 Year Warranty", false),
    ("- Fast Shipping", false),
];

static VEHICLES: &[&str] = &[
    "Toyota Camry",
    "Honda Civic",
    "Ford F-150",
    "Chevrolet Silverado",
    "Jeep Wrangler",
    "Tesla Model 3",
    "Subaru Outback",
    "Nissan Altima",
    "Honda CR-V",
    "Toyota RAV4",
    "Hyundai Elantra",
    "Ram 1500",
    "Mazda CX-5",
    "Volkswagen Jetta",
    "BMW 3 Series",
];

static SERIES_WORDS: &[&str] = &[
    "Pro",
    "Max",
    "Plus",
    "Lite",
    "Ultra",
    "Elite",
    "Air",
    "Go",
    "Mini",
    "Studio",
    "Classic",
    "Prime",
    "Edge",
    "Core",
    "Flex",
    "Sport",
    "Active",
    "Vision",
    "Essential",
    "Signature",
    "Select",
    "Series",
    "II",
    "X",
];

static ONSETS: &[&str] = &[
    "b", "c", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "cr", "dr",
    "fl", "gr", "pr", "st", "tr", "x", "sk", "qu", "h", "j", "sh",
];
static VOWELS: &[&str] = &[
    "a", "e", "i", "o", "u", "a", "e", "o", "ia", "ea", "io", "y",
];
static CODAS: &[&str] = &["", "", "", "n", "r", "s", "x", "l", "m", "nt", "rk", "sh"];

/// No I or O: real part numbers avoid them because they read as 1 and 0.
const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const ALNUM: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";

static PRICE_ENDINGS: &[u64] = &[99, 99, 99, 95, 49, 0, 97, 89];

// ---------------------------------------------------------------------------
// Families and items.

/// Share of rows (per mille) that are variants of an earlier row's family. Parents are
/// drawn uniformly from all earlier rows, so duplicates are scattered through the file
/// and family sizes follow a rich-get-richer (Simon) tail, mostly pairs and triples.
const VARIANT_PERMILLE: u64 = 300;

#[derive(Clone, Copy, PartialEq, Eq)]
enum SeriesKind {
    None,
    /// One of the brand's recurring product lines, shared by unrelated products so
    /// that near-identical titles of different products exist (hard negatives).
    Pool(u8),
    /// A product line seen only in this family: vocabulary grows with catalogue size.
    Unique,
}

/// A product model: everything its variants share.
#[derive(Clone, Copy)]
struct Family {
    cat: usize,
    brand: usize,
    series: SeriesKind,
    key: u64,
    layout: u8,
    show_code: bool,
    unit_style: u8,
    noun: usize,
    feats: [u8; MAX_FEATS],
    nfeat: usize,
    slots: [u8; MAX_SLOTS],
    price: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kind {
    Original,
    Recolour,
    Resize,
    Relist,
    Dup,
}

/// One catalogue row: a family plus how this listing deviates from it.
#[derive(Clone, Copy)]
struct Item {
    fam: Family,
    kind: Kind,
    layout: u8,
    unit_style: u8,
    code_style: u8,
    code_tweak: u8,
    show_code: bool,
    synonyms: bool,
    omit_brand: bool,
    fluff: u8,
    case: u8,
    brand_col: u8,
    cat_col: u8,
    price: u32,
    desc_key: u64,
}

impl Item {
    fn canonical(fam: Family) -> Self {
        Item {
            fam,
            kind: Kind::Original,
            layout: fam.layout,
            unit_style: fam.unit_style,
            code_style: 0,
            code_tweak: 0,
            show_code: fam.show_code,
            synonyms: false,
            omit_brand: false,
            fluff: 0,
            case: 0,
            brand_col: 0,
            cat_col: 0,
            price: fam.price,
            desc_key: mix64(fam.key ^ SALT_DESC),
        }
    }

    fn category(&self) -> &'static Category {
        &CATEGORIES[self.fam.cat]
    }

    fn slot_value(&self, k: usize) -> &'static str {
        let slot = &self.category().slots[k];
        slot.values[self.fam.slots[k] as usize]
    }
}

/// Strings derived from an item that several renderers need; reused across rows.
#[derive(Default)]
struct Parts {
    code_raw: String,
    code: String,
    series: String,
    compat: String,
}

#[derive(Default)]
struct Texts {
    title: String,
    desc: String,
    field: String,
}

struct Synth {
    seed: u64,
    cat_cum: Vec<u32>,
}

impl Synth {
    fn new(seed: u64) -> Self {
        let mut acc = 0u32;
        let cat_cum = CATEGORIES
            .iter()
            .map(|c| {
                acc += c.weight;
                acc
            })
            .collect();
        Synth { seed, cat_cum }
    }

    fn pick_category(&self, rng: &mut Rng) -> usize {
        let total = self.cat_cum.last().copied().unwrap_or(1);
        let r = rng.below_u64(u64::from(total)) as u32;
        self.cat_cum
            .partition_point(|&c| c <= r)
            .min(CATEGORIES.len() - 1)
    }

    /// The row `i` derives from, if it is a variant, and the stream that then decides
    /// how it varies.
    fn parent(&self, i: u64) -> (Option<u64>, Rng) {
        let mut rng = Rng::new(key(self.seed, SALT_ITEM, i));
        if i == 0 || rng.below_u64(1000) >= VARIANT_PERMILLE {
            (None, rng)
        } else {
            let p = rng.below_u64(i);
            (Some(p), rng)
        }
    }

    /// Family id of row `i`: the row that founded it. Terminates because parents are
    /// strictly earlier rows.
    fn root(&self, mut i: u64) -> u64 {
        while let (Some(p), _) = self.parent(i) {
            i = p;
        }
        i
    }

    fn item(&self, i: u64) -> Item {
        let (parent, mut rng) = self.parent(i);
        match parent {
            None => Item::canonical(self.family(i)),
            Some(p) => {
                let mut item = Item::canonical(self.family(self.root(p)));
                vary(&mut item, &mut rng);
                item
            }
        }
    }

    fn family(&self, id: u64) -> Family {
        let mut rng = Rng::new(key(self.seed, SALT_FAMILY, id));
        let cat = self.pick_category(&mut rng);
        let c = &CATEGORIES[cat];
        let brand = rng.zipf(c.brands.len());
        let series = match rng.below(100) {
            0..=54 => SeriesKind::Pool(rng.zipf(SERIES_POOL) as u8),
            55..=74 => SeriesKind::Unique,
            _ => SeriesKind::None,
        };
        let layout = rng.below(3) as u8;
        let show_code = rng.chance(c.code_pct);
        let unit_style = if rng.chance(75) {
            0
        } else {
            rng.below(4) as u8
        };
        let noun = rng.below(c.nouns.len());

        let mut slots = [0u8; MAX_SLOTS];
        let mut filled = 0;
        for (k, slot) in c.slots.iter().enumerate().take(MAX_SLOTS) {
            let v = rng.below(slot.values.len());
            slots[k] = v as u8;
            if slot.pos != Pos::Colour && !slot.values[v].is_empty() {
                filled += 1;
            }
        }
        // Attribute-heavy products (laptops) get fewer adjectives, keeping titles in
        // the usual 5-15 word range.
        let budget = 4usize.saturating_sub(filled).clamp(1, MAX_FEATS);
        let nfeat = (1 + rng.below(MAX_FEATS)).min(budget).min(c.features.len());
        let mut feats = [0u8; MAX_FEATS];
        let mut n = 0;
        while n < nfeat {
            let f = rng.below(c.features.len()) as u8;
            if !feats[..n].contains(&f) {
                feats[n] = f;
                n += 1;
            }
        }
        let price = base_price(c.price, &mut rng);
        Family {
            cat,
            brand,
            series,
            key: rng.next_u64(),
            layout,
            show_code,
            unit_style,
            noun,
            feats,
            nfeat,
            slots,
            price,
        }
    }

    /// Fills the strings of `parts` for `item`.
    fn materialize(&self, item: &Item, parts: &mut Parts) {
        let fam = &item.fam;
        let c = item.category();
        parts.code_raw.clear();
        self.model_code(fam, item.code_tweak, &mut parts.code_raw);
        parts.code.clear();
        format_code(&parts.code_raw, item.code_style, fam.key, &mut parts.code);
        parts.series.clear();
        match fam.series {
            SeriesKind::None => {}
            SeriesKind::Pool(k) => {
                self.pool_series(fam.cat, fam.brand, k as usize, &mut parts.series)
            }
            SeriesKind::Unique => {
                let mut rng = Rng::new(mix64(fam.key ^ SALT_UNIQUE_SERIES));
                series_name(&mut rng, &mut parts.series);
            }
        }
        parts.compat.clear();
        let mut rng = Rng::new(mix64(fam.key ^ SALT_COMPAT));
        match c.compat {
            Compat::No => {}
            Compat::Model => {
                parts.compat.push_str("for ");
                let k = rng.zipf(SERIES_POOL);
                self.pool_series(fam.cat, fam.brand, k, &mut parts.compat);
                parts.compat.push(' ');
                let pattern = rng.pick(&["9999", "999A", "AA-999", "9999A", "99"]);
                fill_pattern(pattern, &mut rng, &[], &[], &mut parts.compat);
            }
            Compat::Vehicle => {
                parts.compat.push_str("for ");
                parts.compat.push_str(rng.pick(VEHICLES));
                parts.compat.push(' ');
                let from = 2005 + rng.below_u64(16);
                push_u64(&mut parts.compat, from);
                parts.compat.push('-');
                push_u64(&mut parts.compat, from + 1 + rng.below_u64(4));
            }
        }
    }

    /// The family's manufacturer part number. The shape and fixed prefix come from the
    /// (brand, category) pair, so one brand's codes look alike ("KX-TS3282B",
    /// "KX-TG7741S") and code matching has to look at the variable part.
    fn model_code(&self, fam: &Family, tweak: u8, out: &mut String) {
        let c = &CATEGORIES[fam.cat];
        let mut brand_rng = Rng::new(key(
            self.seed,
            SALT_BRAND,
            (fam.cat * 64 + fam.brand) as u64,
        ));
        let pattern = brand_rng.pick(c.codes);
        let mut letters = [0u8; 4];
        for l in &mut letters {
            *l = brand_rng.pick(LETTERS);
        }
        let mut digits = [0u8; 4];
        for d in &mut digits {
            *d = b'0' + brand_rng.below(10) as u8;
        }
        let mut rng = Rng::new(mix64(fam.key ^ SALT_CODE));
        let start = out.len();
        fill_pattern(pattern, &mut rng, &letters, &digits, out);
        if tweak > 0 {
            // Colour/size variants often differ only in the last character
            // (KX-TS3282B vs KX-TS3282W).
            if let Some(pos) = pattern
                .bytes()
                .rposition(|b| matches!(b, b'A' | b'9' | b'X'))
            {
                let at = start + pos;
                let old = out.as_bytes()[at];
                let alphabet = if old.is_ascii_digit() {
                    b"0123456789".as_slice()
                } else {
                    LETTERS
                };
                let idx = alphabet.iter().position(|&b| b == old).unwrap_or(0);
                let new = alphabet[(idx + usize::from(tweak)) % alphabet.len()];
                let mut buf = [0u8; 4];
                out.replace_range(at..at + 1, char::from(new).encode_utf8(&mut buf));
            }
        }
    }

    fn pool_series(&self, cat: usize, brand: usize, k: usize, out: &mut String) {
        let n = ((cat * 64 + brand) * SERIES_POOL + k) as u64;
        let mut rng = Rng::new(key(self.seed, SALT_SERIES, n));
        series_name(&mut rng, out);
    }
}

/// Expands a code pattern (see [`Category::codes`]); `p`/`q` cycle through the fixed
/// letters/digits, or fall back to random ones when none are given.
fn fill_pattern(pattern: &str, rng: &mut Rng, letters: &[u8], digits: &[u8], out: &mut String) {
    let (mut pl, mut pd) = (0, 0);
    for ch in pattern.bytes() {
        let b = match ch {
            b'p' if !letters.is_empty() => {
                pl += 1;
                letters[(pl - 1) % letters.len()]
            }
            b'q' if !digits.is_empty() => {
                pd += 1;
                digits[(pd - 1) % digits.len()]
            }
            b'A' | b'p' => rng.pick(LETTERS),
            b'9' | b'q' => b'0' + rng.below(10) as u8,
            b'X' => rng.pick(ALNUM),
            other => other,
        };
        out.push(char::from(b));
    }
}

fn series_name(rng: &mut Rng, out: &mut String) {
    match rng.below(10) {
        0..=3 => invented_word(rng, out),
        4 | 5 => {
            invented_word(rng, out);
            out.push(' ');
            out.push_str(rng.pick(SERIES_WORDS));
        }
        6 | 7 => {
            for _ in 0..2 {
                out.push(char::from(rng.pick(LETTERS)));
            }
            out.push(' ');
            invented_word(rng, out);
        }
        8 => {
            invented_word(rng, out);
            out.push(' ');
            push_u64(out, 2 + rng.below_u64(8));
        }
        _ => {
            for _ in 0..1 + rng.below(2) {
                out.push(char::from(rng.pick(LETTERS)));
            }
            push_u64(out, 10 + rng.below_u64(990));
        }
    }
}

/// Pronounceable made-up brand-line word ("Velora", "Kryst"), capitalised.
fn invented_word(rng: &mut Rng, out: &mut String) {
    let start = out.len();
    let syllables = if rng.chance(70) { 2 } else { 3 };
    for _ in 0..syllables {
        out.push_str(rng.pick(ONSETS));
        out.push_str(rng.pick(VOWELS));
    }
    out.push_str(rng.pick(CODAS));
    if let Some(first) = out[start..].chars().next() {
        let upper = first.to_ascii_uppercase();
        let mut buf = [0u8; 4];
        out.replace_range(start..start + first.len_utf8(), upper.encode_utf8(&mut buf));
    }
}

/// Skewed towards the cheap end (product of two uniforms) like real price lists, and
/// snapped to retail endings.
fn base_price((lo, hi): (u32, u32), rng: &mut Rng) -> u32 {
    let span = u64::from(hi.saturating_sub(lo));
    let u1 = rng.below_u64(1001);
    let u2 = rng.below_u64(1001);
    snap_price(u64::from(lo) + span * u1 * u2 / 1_000_000, rng)
}

fn snap_price(cents: u64, rng: &mut Rng) -> u32 {
    let dollars = (cents / 100).max(1);
    (dollars * 100 + rng.pick(PRICE_ENDINGS)).min(u64::from(u32::MAX)) as u32
}

/// Moves a price by up to `percent` in either direction.
fn jitter(price: u32, percent: u64, rng: &mut Rng) -> u32 {
    let factor = 100 - percent + rng.below_u64(2 * percent + 1);
    snap_price(u64::from(price) * factor / 100, rng)
}

/// Picks a value whose text differs from the current one; optional axes repeat "",
/// and moving between two of those would be an invisible change.
fn reroll(values: &[&str], current: u8, rng: &mut Rng) -> u8 {
    let n = values.len();
    if n < 2 {
        return current;
    }
    let old = values[usize::from(current)];
    for _ in 0..8 {
        let next = (usize::from(current) + 1 + rng.below(n - 1)) % n;
        if values[next] != old {
            return next as u8;
        }
    }
    current
}

/// Turns a canonical item into a variant of its family.
fn vary(item: &mut Item, rng: &mut Rng) {
    let c = item.category();
    let colour = c
        .slots
        .iter()
        .position(|s| s.pos == Pos::Colour && s.values.len() > 1);
    let mut resizable = [0usize; MAX_SLOTS];
    let mut nres = 0;
    for (k, s) in c.slots.iter().enumerate().take(MAX_SLOTS) {
        if s.pos != Pos::Colour && s.values.len() > 1 {
            resizable[nres] = k;
            nres += 1;
        }
    }
    let r = rng.below(100);
    item.kind = if r < 28 && colour.is_some() {
        Kind::Recolour
    } else if r < 55 && nres > 0 {
        Kind::Resize
    } else if r < 90 {
        Kind::Relist
    } else {
        Kind::Dup
    };
    // Sellers of a variant usually copy the parent's description.
    let new_desc = rng.chance(40);
    match item.kind {
        Kind::Original => {}
        Kind::Recolour => {
            if let Some(k) = colour {
                recolour(item, k, rng);
            }
            if rng.chance(30) {
                item.price = jitter(item.price, 5, rng);
            }
        }
        Kind::Resize => {
            let k = resizable[rng.below(nres)];
            let old = item.fam.slots[k];
            let new = reroll(c.slots[k].values, old, rng);
            item.fam.slots[k] = new;
            // Later values are the bigger sizes/packs, so price follows the index.
            let scaled = u64::from(item.price) * (8 + u64::from(new)) / (8 + u64::from(old));
            item.price = snap_price(scaled, rng);
            if rng.chance(40) {
                item.code_tweak = 1 + rng.below(7) as u8;
            }
        }
        Kind::Relist => {
            restyle(item, rng);
            if let Some(k) = colour
                && rng.chance(20)
            {
                recolour(item, k, rng);
            }
        }
        Kind::Dup => {
            if rng.chance(40) {
                item.fluff = 1 + rng.below(FLUFF.len()) as u8;
            }
            if rng.chance(50) {
                item.price = jitter(item.price, 8, rng);
            }
        }
    }
    if new_desc && item.kind != Kind::Relist {
        item.desc_key = rng.next_u64();
    }
}

fn recolour(item: &mut Item, k: usize, rng: &mut Rng) {
    let values = item.category().slots[k].values;
    item.fam.slots[k] = reroll(values, item.fam.slots[k], rng);
    if rng.chance(50) {
        item.code_tweak = 1 + rng.below(7) as u8;
    }
}

/// Number of code formatting styles understood by [`format_code`].
const CODE_STYLES: usize = 6;
/// Number of title layouts understood by [`render_title`]; 0-2 are canonical.
const LAYOUTS: usize = 6;

/// Re-renders an item the way another shop would list it.
fn restyle(item: &mut Item, rng: &mut Rng) {
    let l = rng.below(LAYOUTS - 1) as u8;
    item.layout = if l >= item.fam.layout { l + 1 } else { l };
    item.unit_style = rng.below(4) as u8;
    item.code_style = rng.below(CODE_STYLES) as u8;
    item.show_code = rng.chance(70);
    item.synonyms = rng.chance(60);
    item.omit_brand = rng.chance(8);
    item.fluff = if rng.chance(30) {
        1 + rng.below(FLUFF.len()) as u8
    } else {
        0
    };
    item.case = match rng.below(100) {
        0..=3 => 1,
        4..=6 => 2,
        _ => 0,
    };
    item.brand_col = match rng.below(100) {
        0..=79 => 0,
        80..=87 => 1,
        88..=94 => 2,
        _ => 3,
    };
    item.cat_col = rng.below(4) as u8;
    item.price = jitter(item.price, 12, rng);
    item.desc_key = rng.next_u64();
}

// ---------------------------------------------------------------------------
// Rendering.

/// Code as another shop might write it: "WH-1000XM4", "WH1000XM4", "wh-1000xm4",
/// "WH 1000XM4", "WH-1000XM4/B", "WH-1000-XM4".
fn format_code(raw: &str, style: u8, fam_key: u64, out: &mut String) {
    match style {
        1 => out.extend(raw.chars().filter(|c| !matches!(c, '-' | ' ' | '/' | '.'))),
        2 => out.extend(raw.chars().map(|c| c.to_ascii_lowercase())),
        3 => out.extend(raw.chars().map(|c| if c == '-' { ' ' } else { c })),
        4 => {
            out.push_str(raw);
            let suffixes = ["/A", "#ABA", "-US", "/B", "-NA"];
            out.push_str(suffixes[(fam_key % suffixes.len() as u64) as usize]);
        }
        5 => {
            // Split at the first letter/digit boundary, as some feeds do.
            let mut prev: Option<char> = None;
            let mut split_done = false;
            for ch in raw.chars() {
                if let Some(p) = prev
                    && !split_done
                    && p.is_ascii_alphanumeric()
                    && ch.is_ascii_alphanumeric()
                    && p.is_ascii_digit() != ch.is_ascii_digit()
                {
                    out.push('-');
                    split_done = true;
                }
                out.push(ch);
                prev = Some(ch);
            }
        }
        _ => out.push_str(raw),
    }
}

fn push_word(out: &mut String, word: &str) {
    if word.is_empty() {
        return;
    }
    if !out.is_empty() && !out.ends_with(' ') {
        out.push(' ');
    }
    out.push_str(word);
}

fn push_value(out: &mut String, unit: Unit, v: &str, style: u8) {
    match unit {
        Unit::Plain => out.push_str(v),
        Unit::Inch => {
            out.push_str(v);
            out.push_str(match style {
                0 => "-Inch",
                1 => "\"",
                2 => " in",
                _ => " inch",
            });
        }
        Unit::Measure => {
            let split = v
                .find(|ch: char| !(ch.is_ascii_digit() || ch == '.' || ch == ','))
                .unwrap_or(v.len());
            let (num, suffix) = v.split_at(split);
            match style {
                1 if !suffix.starts_with(' ') => {
                    out.push_str(num);
                    out.push(' ');
                    out.push_str(suffix);
                }
                2 => {
                    out.push_str(num);
                    out.extend(suffix.chars().map(|c| c.to_ascii_lowercase()));
                }
                _ => out.push_str(v),
            }
        }
        Unit::Pack => wrap(
            out,
            v,
            style,
            ["", "-Pack"],
            ["", " Pack"],
            ["Pack of ", ""],
            ["", " Count"],
        ),
        Unit::Piece => wrap(
            out,
            v,
            style,
            ["", " Pieces"],
            ["", "-Piece"],
            ["", " pcs"],
            ["", " Pcs"],
        ),
        Unit::Sheet => wrap(
            out,
            v,
            style,
            ["", " Sheets"],
            ["", " Sheet"],
            ["", " ct"],
            ["", "-Sheet"],
        ),
        Unit::Size => wrap(
            out,
            v,
            style,
            ["Size ", ""],
            ["", ""],
            ["Sz ", ""],
            ["Size: ", ""],
        ),
        Unit::Foot => wrap(
            out,
            v,
            style,
            ["", " ft"],
            ["", "-Foot"],
            ["", "ft"],
            ["", " Feet"],
        ),
        Unit::Year => wrap(
            out,
            v,
            style,
            ["", ""],
            ["", " Edition"],
            ["(", ")"],
            ["", " Version"],
        ),
        Unit::Cup => wrap(
            out,
            v,
            style,
            ["", "-Cup"],
            ["", " Cup"],
            ["", " Cups"],
            ["", "-Cup"],
        ),
    }
}

/// Writes `v` between the prefix/suffix pair selected by `style`.
fn wrap(
    out: &mut String,
    v: &str,
    style: u8,
    s0: [&str; 2],
    s1: [&str; 2],
    s2: [&str; 2],
    s3: [&str; 2],
) {
    let [pre, post] = match style {
        0 => s0,
        1 => s1,
        2 => s2,
        _ => s3,
    };
    out.push_str(pre);
    out.push_str(v);
    out.push_str(post);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sep {
    Space,
    Comma,
}

fn push_slots(out: &mut String, item: &Item, pos: Pos, sep: Sep) {
    let c = item.category();
    for (k, slot) in c.slots.iter().enumerate().take(MAX_SLOTS) {
        if slot.pos != pos {
            continue;
        }
        let v = item.slot_value(k);
        if v.is_empty() {
            continue;
        }
        match sep {
            Sep::Space => {
                if !out.is_empty() && !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            Sep::Comma => {
                if !out.is_empty() {
                    out.push_str(", ");
                }
            }
        }
        push_value(out, slot.unit, v, item.unit_style);
    }
}

fn feature_text(item: &Item, i: usize) -> &'static str {
    let c = item.category();
    let f = c.features[item.fam.feats[i] as usize];
    if !item.synonyms {
        return f;
    }
    let Some((_, alts)) = SYNONYMS.iter().find(|(w, _)| *w == f) else {
        return f;
    };
    let pick = mix64(item.desc_key ^ i as u64) % (alts.len() as u64 + 1);
    // One option keeps the original wording, as does an alternative that would repeat
    // another feature of the same title ("Bluetooth ... Bluetooth").
    match alts.get(pick as usize) {
        Some(&alt)
            if !(0..item.fam.nfeat)
                .any(|j| j != i && c.features[item.fam.feats[j] as usize] == alt) =>
        {
            alt
        }
        _ => f,
    }
}

fn push_features(out: &mut String, item: &Item) {
    for i in 0..item.fam.nfeat {
        push_word(out, feature_text(item, i));
    }
}

fn render_title(item: &Item, parts: &Parts, out: &mut String) {
    out.clear();
    let c = item.category();
    let brand = if item.omit_brand {
        ""
    } else {
        c.brands[item.fam.brand]
    };
    let noun = c.nouns[item.fam.noun];
    let code = if item.show_code {
        parts.code.as_str()
    } else {
        ""
    };
    match item.layout {
        // "Sony WH-1000XM4 Wireless Noise Cancelling Headphones, Black"
        // "Logitech MX Keys Advanced Illuminated Keyboard 920-009294"
        0 | 1 => {
            push_word(out, brand);
            push_word(out, &parts.series);
            if item.layout == 0 {
                push_word(out, code);
            }
            push_slots(out, item, Pos::Pre, Sep::Space);
            push_features(out, item);
            push_word(out, noun);
            if item.layout == 1 {
                push_word(out, code);
            }
            push_word(out, &parts.compat);
            push_slots(out, item, Pos::Post, Sep::Comma);
            push_slots(out, item, Pos::Colour, Sep::Comma);
        }
        // "Pilot G2 Premium Gel Pens, 0.7mm, 12-Pack, Black (31020)"
        2 => {
            push_word(out, brand);
            push_word(out, &parts.series);
            push_features(out, item);
            push_word(out, noun);
            push_word(out, &parts.compat);
            push_slots(out, item, Pos::Pre, Sep::Comma);
            push_slots(out, item, Pos::Post, Sep::Comma);
            push_slots(out, item, Pos::Colour, Sep::Comma);
            if !code.is_empty() {
                out.push_str(" (");
                out.push_str(code);
                out.push(')');
            }
        }
        // "Sony WH1000XM4 - Wireless Noise Canceling Headphones Black"
        3 => {
            push_word(out, brand);
            push_word(out, code);
            if !code.is_empty() {
                out.push_str(" -");
            }
            push_features(out, item);
            push_word(out, noun);
            push_slots(out, item, Pos::Pre, Sep::Space);
            push_word(out, &parts.compat);
            push_slots(out, item, Pos::Colour, Sep::Space);
            push_slots(out, item, Pos::Post, Sep::Space);
        }
        // "Sony Velora Headphones - Wireless ANC, Black, Model WH-1000XM4"
        4 => {
            push_word(out, brand);
            push_word(out, &parts.series);
            push_word(out, noun);
            out.push_str(" -");
            push_features(out, item);
            push_word(out, &parts.compat);
            push_slots(out, item, Pos::Pre, Sep::Comma);
            push_slots(out, item, Pos::Colour, Sep::Comma);
            push_slots(out, item, Pos::Post, Sep::Comma);
            if !code.is_empty() {
                out.push_str(", Model ");
                out.push_str(code);
            }
        }
        // Keyword-stuffed marketplace style without punctuation.
        _ => {
            push_word(out, brand);
            push_word(out, &parts.series);
            push_word(out, noun);
            push_slots(out, item, Pos::Pre, Sep::Space);
            push_slots(out, item, Pos::Colour, Sep::Space);
            push_word(out, code);
            push_features(out, item);
            push_word(out, &parts.compat);
            push_slots(out, item, Pos::Post, Sep::Space);
        }
    }
    if let Some(&(text, front)) = usize::from(item.fluff)
        .checked_sub(1)
        .and_then(|k| FLUFF.get(k))
    {
        if front {
            out.insert(0, ' ');
            out.insert_str(0, text);
        } else {
            push_word(out, text);
        }
    }
    match item.case {
        1 => out.make_ascii_uppercase(),
        2 => out.make_ascii_lowercase(),
        _ => {}
    }
}

/// Lower-cases plain capitalised words ("Wireless" -> "wireless") but keeps acronyms
/// and mixed tokens ("USB-C", "4K", "microSD") as prose would.
fn push_prose(out: &mut String, text: &str) {
    for (i, w) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let mut chars = w.chars();
        let plain = chars.next().is_some_and(|c| c.is_ascii_uppercase())
            && chars.all(|c| c.is_ascii_lowercase() || c == '\'');
        if plain {
            out.extend(w.chars().map(|c| c.to_ascii_lowercase()));
        } else {
            out.push_str(w);
        }
    }
}

fn render_desc(item: &Item, parts: &Parts, out: &mut String) {
    out.clear();
    let mut rng = Rng::new(item.desc_key);
    if rng.chance(8) {
        return;
    }
    let c = item.category();
    let brand = c.brands[item.fam.brand];
    let noun = c.nouns[item.fam.noun];
    let feature = c.features[item.fam.feats[0] as usize];
    let uses = dept_uses(c.dept);
    let b1 = rng.below(c.benefits.len());
    let b2 = (b1 + 1 + rng.below(c.benefits.len().max(2) - 1)) % c.benefits.len();
    let (b1, b2) = (c.benefits[b1], c.benefits[b2]);
    match rng.below(5) {
        0 => {
            out.push_str(feature);
            out.push(' ');
            push_prose(out, noun);
            out.push_str(" with ");
            out.push_str(b1);
            out.push_str(" and ");
            out.push_str(b2);
            out.push('.');
        }
        1 => {
            out.push_str("The ");
            out.push_str(brand);
            push_word(out, &parts.series);
            out.push(' ');
            push_prose(out, noun);
            out.push_str(" delivers ");
            out.push_str(b1);
            out.push('.');
        }
        2 => {
            out.push_str("Features ");
            out.push_str(b1);
            out.push_str(" and ");
            out.push_str(b2);
            out.push('.');
        }
        3 => {
            out.push_str(brand);
            out.push(' ');
            push_prose(out, noun);
            out.push_str(" designed for ");
            out.push_str(rng.pick(uses));
            out.push('.');
        }
        _ => {
            out.push_str("Get ");
            out.push_str(b1);
            out.push_str(" with this ");
            push_prose(out, feature);
            out.push(' ');
            push_prose(out, noun);
            out.push('.');
        }
    }
    if rng.chance(55) {
        match rng.below(5) {
            0 => {
                out.push_str(" Ideal for ");
                out.push_str(rng.pick(uses));
                out.push('.');
            }
            // Codes often live only in the description.
            1 => {
                out.push_str(" Model: ");
                out.push_str(&parts.code_raw);
                out.push('.');
            }
            2 => {
                out.push_str(" Includes a ");
                push_u64(out, 1 + rng.below_u64(3));
                out.push_str("-year limited warranty.");
            }
            3 => {
                let colour = c
                    .slots
                    .iter()
                    .position(|s| s.pos == Pos::Colour)
                    .map(|k| item.slot_value(k))
                    .unwrap_or("");
                if colour.is_empty() {
                    out.push_str(" Perfect for ");
                    out.push_str(rng.pick(uses));
                } else {
                    out.push_str(" Shown in ");
                    out.push_str(colour);
                }
                out.push('.');
            }
            _ => {
                out.push_str(" Perfect for ");
                out.push_str(rng.pick(uses));
                out.push('.');
            }
        }
    }
}

fn render_brand_column(item: &Item, out: &mut String) {
    out.clear();
    let brand = item.category().brands[item.fam.brand];
    match item.brand_col {
        1 => out.extend(brand.chars().map(|c| c.to_ascii_uppercase())),
        // Merged feeds often lack the brand.
        2 => {}
        3 => out.extend(brand.chars().map(|c| c.to_ascii_lowercase())),
        _ => out.push_str(brand),
    }
}

fn render_category_column(item: &Item, out: &mut String) {
    out.clear();
    let path = item.category().path;
    let leaf = path.rsplit(" > ").next().unwrap_or(path);
    match item.cat_col {
        1 => out.push_str(leaf),
        2 => out.push_str(&path.replace(" > ", "/")),
        3 => out.extend(leaf.chars().map(|c| c.to_ascii_lowercase())),
        _ => out.push_str(path),
    }
}

/// A shopper's search for `item`: short, mostly lower-case, sometimes misspelt.
fn user_query(item: &Item, parts: &Parts, rng: &mut Rng, out: &mut String) {
    let c = item.category();
    let brand = c.brands[item.fam.brand];
    let noun = c.nouns[item.fam.noun];
    match rng.below(100) {
        0..=19 => {
            push_word(out, brand);
            push_word(out, noun);
        }
        20..=39 => {
            for i in 0..item.fam.nfeat.min(1 + rng.below(2)) {
                push_word(out, feature_text(item, i));
            }
            if rng.chance(50) {
                push_slots(out, item, Pos::Pre, Sep::Space);
            }
            push_word(out, noun);
        }
        40..=51 => push_word(out, &parts.code),
        52..=64 => {
            push_word(out, brand);
            push_word(out, &parts.code);
        }
        65..=79 => {
            push_word(out, brand);
            if parts.series.is_empty() {
                push_word(out, feature_text(item, 0));
            } else {
                push_word(out, &parts.series);
            }
            push_word(out, noun);
        }
        _ => {
            push_slots(out, item, Pos::Pre, Sep::Space);
            push_slots(out, item, Pos::Post, Sep::Space);
            push_word(out, noun);
            push_slots(out, item, Pos::Colour, Sep::Space);
        }
    }
    if rng.chance(85) {
        out.make_ascii_lowercase();
    }
    if rng.chance(12) {
        typo(out, rng);
    }
}

/// Swaps or drops one letter of a longer word, like a hurried shopper.
fn typo(text: &mut String, rng: &mut Rng) {
    if !text.is_ascii() {
        return;
    }
    let mut starts = [0usize; 16];
    let mut n = 0;
    let mut start = 0;
    for w in text.split(' ') {
        if w.len() >= 5 && w.bytes().all(|b| b.is_ascii_alphabetic()) && n < starts.len() {
            starts[n] = start;
            n += 1;
        }
        start += w.len() + 1;
    }
    if n == 0 {
        return;
    }
    let at = starts[rng.below(n)] + 1 + rng.below(3);
    let mut bytes = std::mem::take(text).into_bytes();
    if rng.chance(50) {
        bytes.swap(at, at + 1);
    } else {
        bytes.remove(at);
    }
    *text = String::from_utf8(bytes).unwrap_or_default();
}

/// Appends `s` as one RFC 4180 field; also quotes leading/trailing spaces, which
/// some readers would otherwise trim.
fn push_field(buf: &mut Vec<u8>, s: &str) {
    let needs_quotes = s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
        || s.starts_with(' ')
        || s.ends_with(' ');
    if !needs_quotes {
        buf.extend_from_slice(s.as_bytes());
        return;
    }
    buf.push(b'"');
    for b in s.bytes() {
        if b == b'"' {
            buf.push(b'"');
        }
        buf.push(b);
    }
    buf.push(b'"');
}

fn decimal_digits(mut n: u64) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

fn push_u64(out: &mut String, n: u64) {
    push_padded(out, n, 1);
}

fn push_padded(out: &mut String, n: u64, width: usize) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    let mut v = n;
    loop {
        digits[len] = b'0' + (v % 10) as u8;
        len += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for _ in len..width {
        out.push('0');
    }
    for &d in digits[..len].iter().rev() {
        out.push(char::from(d));
    }
}

fn push_price(out: &mut String, cents: u32) {
    push_u64(out, u64::from(cents / 100));
    out.push('.');
    push_padded(out, u64::from(cents % 100), 2);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    fn catalog(items: usize, seed: u64) -> Vec<u8> {
        let mut out = Vec::new();
        write_catalog(&SynthOptions { items, seed }, &mut out).unwrap();
        out
    }

    fn rows(data: &[u8]) -> Vec<csv::StringRecord> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(data);
        reader.records().map(|r| r.unwrap()).collect()
    }

    /// Alphanumeric tokens with letters and digits, separators removed and upper-cased:
    /// how a code matcher would normalise "WH-1000XM4", "wh1000xm4" and "WH 1000XM4".
    /// Number-then-unit tokens ("12-Pack", "15.6-Inch") are attributes, not codes.
    fn code_tokens(title: &str) -> Vec<String> {
        title
            .split(|c: char| c.is_whitespace() || matches!(c, ',' | '(' | ')' | '|'))
            .map(|t| {
                t.chars()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .map(|c| c.to_ascii_uppercase())
                    .collect::<String>()
            })
            .filter(|t| {
                let digits_then_letters = t
                    .trim_start_matches(|c: char| c.is_ascii_digit())
                    .chars()
                    .all(|c| c.is_ascii_alphabetic());
                t.len() >= 6
                    && t.chars().any(|c| c.is_ascii_digit())
                    && t.chars().any(|c| c.is_ascii_alphabetic())
                    && !digits_then_letters
            })
            .collect()
    }

    #[test]
    fn tables_are_well_formed() {
        assert!(CATEGORIES.len() >= 40);
        let mut brands = HashSet::new();
        for c in CATEGORIES {
            assert!(!c.brands.is_empty() && c.brands.len() <= 64, "{}", c.path);
            assert!(!c.nouns.is_empty(), "{}", c.path);
            assert!(c.features.len() >= MAX_FEATS, "{}", c.path);
            assert!(c.benefits.len() >= 2, "{}", c.path);
            assert!(!c.codes.is_empty(), "{}", c.path);
            assert!(c.slots.len() <= MAX_SLOTS, "{}", c.path);
            assert!(c.weight > 0 && c.price.0 < c.price.1, "{}", c.path);
            for s in c.slots {
                assert!(!s.values.is_empty() && s.values.len() < 256, "{}", c.path);
            }
            for text in c.nouns.iter().chain(c.features).chain(c.brands) {
                assert!(text.is_ascii() && !text.contains('"'), "{text}");
            }
            brands.extend(c.brands.iter().copied());
        }
        assert!(
            (60..=200).contains(&brands.len()),
            "{} brands",
            brands.len()
        );
    }

    #[test]
    fn output_is_deterministic() {
        assert_eq!(catalog(3000, 42), catalog(3000, 42));
        let opts = SynthOptions {
            items: 500,
            seed: 42,
        };
        assert_eq!(sample_queries(&opts, 300, 1), sample_queries(&opts, 300, 1));
    }

    #[test]
    fn different_seeds_differ() {
        let a = catalog(200, 1);
        let b = catalog(200, 2);
        assert_ne!(a, b);
        let (ra, rb) = (rows(&a), rows(&b));
        let same = ra.iter().zip(&rb).filter(|(x, y)| x[1] == y[1]).count();
        assert!(same < 10, "{same} identical titles across seeds");
        let opts = SynthOptions {
            items: 500,
            seed: 42,
        };
        assert_ne!(sample_queries(&opts, 50, 1), sample_queries(&opts, 50, 2));
    }

    #[test]
    fn seed_output_is_pinned() {
        // Benchmarks compare runs across machines and toolchains, so the bytes for a
        // seed must never drift; any generator change has to update this hash.
        let mut data = catalog(500, 7);
        for q in sample_queries(
            &SynthOptions {
                items: 500,
                seed: 7,
            },
            200,
            3,
        ) {
            data.extend_from_slice(q.as_bytes());
            data.push(b'\n');
        }
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in &data {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        assert_eq!(hash, PINNED_HASH);
    }

    const PINNED_HASH: u64 = 17_347_414_230_614_643_591;

    #[test]
    fn header_and_row_count() {
        let data = catalog(0, 5);
        assert_eq!(data, b"id,title,brand,category,description,price\n");
        let data = catalog(1234, 5);
        let mut reader = csv::Reader::from_reader(data.as_slice());
        let header = reader.headers().unwrap().clone();
        assert_eq!(
            header.iter().collect::<Vec<_>>(),
            ["id", "title", "brand", "category", "description", "price"]
        );
        assert_eq!(rows(&data).len(), 1234);
    }

    #[test]
    fn csv_parses_with_six_columns_and_exercises_quoting() {
        let data = catalog(5000, 9);
        // A strict reader: any unbalanced quote or wrong column count is an error.
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(data.as_slice());
        let mut n = 0;
        let (mut with_comma, mut with_quote) = (0, 0);
        for rec in reader.records() {
            let rec = rec.unwrap();
            assert_eq!(rec.len(), 6);
            with_comma += usize::from(rec[1].contains(','));
            with_quote += usize::from(rec[1].contains('"'));
            n += 1;
        }
        assert_eq!(n, 5000);
        assert!(with_comma > 500, "{with_comma}");
        assert!(with_quote > 0);
    }

    #[test]
    fn ids_are_unique_padded_and_prices_valid() {
        let records = rows(&catalog(4000, 11));
        let ids: HashSet<&str> = records.iter().map(|r| r.get(0).unwrap()).collect();
        assert_eq!(ids.len(), 4000);
        assert_eq!(&records[0][0], "P0000001");
        assert_eq!(&records[3999][0], "P0004000");
        for r in &records {
            let (whole, cents) = r[5].split_once('.').unwrap();
            assert!(!whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()));
            assert!(cents.len() == 2 && cents.bytes().all(|b| b.is_ascii_digit()));
            assert!(whole.parse::<u32>().unwrap() >= 1);
        }
        let mut wide = String::new();
        push_padded(&mut wide, 12_345_678, decimal_digits(12_345_678).max(7));
        assert_eq!(wide, "12345678");
    }

    #[test]
    fn titles_have_realistic_length() {
        let records = rows(&catalog(10_000, 3));
        let ok = records
            .iter()
            .filter(|r| {
                let t = &r[1];
                let words = t.split_whitespace().count();
                (5..=15).contains(&words) && (40..=120).contains(&t.len())
            })
            .count();
        assert!(ok * 100 >= records.len() * 75, "only {ok} typical titles");
        let empty_desc = records.iter().filter(|r| r[4].is_empty()).count();
        assert!(empty_desc > 100 && empty_desc < 2000, "{empty_desc}");
    }

    #[test]
    fn brands_and_categories_are_varied_and_skewed() {
        let records = rows(&catalog(20_000, 4));
        let mut brands: HashMap<String, usize> = HashMap::new();
        for r in &records {
            if !r[2].is_empty() {
                *brands.entry(r[2].to_ascii_lowercase()).or_default() += 1;
            }
        }
        assert!(
            (60..=200).contains(&brands.len()),
            "{} brands",
            brands.len()
        );
        let mut counts: Vec<usize> = brands.values().copied().collect();
        counts.sort_unstable();
        let median = counts[counts.len() / 2];
        let top = counts[counts.len() - 1];
        assert!(top >= 5 * median, "top {top} median {median}");
        let categories: HashSet<&str> = records
            .iter()
            .map(|r| r.get(3).unwrap())
            .filter(|c| CATEGORIES.iter().any(|k| k.path == *c))
            .collect();
        assert!(categories.len() >= 40, "{}", categories.len());
    }

    #[test]
    fn brand_popularity_is_zipf_within_categories() {
        let synth = Synth::new(12);
        let (mut first, mut last) = (0usize, 0usize);
        for id in 0..30_000 {
            let fam = synth.family(id);
            let n = CATEGORIES[fam.cat].brands.len();
            first += usize::from(fam.brand == 0);
            last += usize::from(fam.brand == n - 1);
        }
        // Zipf(1) over 4-6 brands puts 4-6x more mass on rank 1 than on the last rank;
        // a uniform draw would give about 1x.
        assert!(first > 3 * last, "first {first} last {last}");
    }

    #[test]
    fn relists_reword_titles_and_reformat_codes() {
        let synth = Synth::new(17);
        let (mut parts, mut title, mut root_title) =
            (Parts::default(), String::new(), String::new());
        let (mut relists, mut reworded, mut reformatted) = (0, 0, 0);
        for i in 0..6000 {
            let item = synth.item(i);
            if item.kind != Kind::Relist {
                continue;
            }
            relists += 1;
            synth.materialize(&item, &mut parts);
            render_title(&item, &parts, &mut title);
            let code = parts.code.clone();
            let root = synth.item(synth.root(i));
            synth.materialize(&root, &mut parts);
            render_title(&root, &parts, &mut root_title);
            reworded += usize::from(title != root_title);
            reformatted += usize::from(code != parts.code);
        }
        assert!(relists > 400, "{relists}");
        assert!(reworded * 100 >= relists * 90, "{reworded}/{relists}");
        assert!(reformatted * 100 >= relists * 50, "{reformatted}/{relists}");
    }

    #[test]
    fn near_duplicate_families_share_model_codes() {
        let records = rows(&catalog(5000, 21));
        let mut seen: HashMap<String, HashSet<usize>> = HashMap::new();
        for (i, r) in records.iter().enumerate() {
            for t in code_tokens(&r[1]) {
                seen.entry(t).or_default().insert(i);
            }
        }
        let mut in_pairs = HashSet::new();
        for rows in seen.values().filter(|s| s.len() >= 2) {
            in_pairs.extend(rows.iter().copied());
        }
        // Roughly 30% of rows are variants; many keep or reformat a displayed code.
        // Without variants no row shares one, since codes are unique per family.
        let shared = in_pairs.len();
        assert!((250..=3000).contains(&shared), "{shared} rows share a code");
    }

    #[test]
    fn variants_are_near_duplicates_of_their_family() {
        let opts = SynthOptions {
            items: 4000,
            seed: 31,
        };
        let records = rows(&catalog(opts.items, opts.seed));
        let tokens = |i: usize| -> HashSet<String> {
            records[i][1]
                .split(|c: char| c.is_whitespace() || matches!(c, ',' | '(' | ')'))
                .filter(|w| !w.is_empty())
                .map(|w| w.to_ascii_lowercase())
                .collect()
        };
        let jaccard = |a: usize, b: usize| {
            let (x, y) = (tokens(a), tokens(b));
            x.intersection(&y).count() as f64 / x.union(&y).count().max(1) as f64
        };
        let synth = Synth::new(opts.seed);
        let (mut fam_sum, mut fam_n, mut rand_sum) = (0.0, 0, 0.0);
        let mut rng = Rng::new(5);
        for i in 0..opts.items {
            let root = synth.root(i as u64) as usize;
            if root != i {
                fam_sum += jaccard(i, root);
                fam_n += 1;
            }
            rand_sum += jaccard(i, rng.below(opts.items));
        }
        let fam = fam_sum / f64::from(fam_n);
        let random = rand_sum / opts.items as f64;
        assert!(fam_n > 800, "{fam_n} variants");
        assert!(fam > 0.45, "variant/root title similarity {fam}");
        assert!(random < 0.1, "random pair similarity {random}");
    }

    #[test]
    fn variants_point_to_earlier_families() {
        let synth = Synth::new(99);
        let mut kinds: HashMap<Kind, usize> = HashMap::new();
        for i in 0..5000u64 {
            let (parent, _) = synth.parent(i);
            if let Some(p) = parent {
                assert!(p < i);
                let root = synth.root(i);
                assert!(root < i && synth.parent(root).0.is_none());
            }
            *kinds.entry(synth.item(i).kind).or_default() += 1;
        }
        let originals = kinds[&Kind::Original];
        assert!((3200..=3800).contains(&originals), "{originals}");
        for kind in [Kind::Recolour, Kind::Resize, Kind::Relist, Kind::Dup] {
            assert!(kinds.get(&kind).copied().unwrap_or(0) > 30, "{kind:?}");
        }
    }

    #[test]
    fn vocabulary_grows_with_size() {
        let vocab = |items| {
            let records = rows(&catalog(items, 8));
            records
                .iter()
                .flat_map(|r| {
                    r[1].split_whitespace()
                        .map(|w| w.to_ascii_lowercase())
                        .collect::<Vec<_>>()
                })
                .collect::<HashSet<_>>()
                .len()
        };
        let small = vocab(2000);
        let large = vocab(20_000);
        assert!(large >= 4 * small, "{small} -> {large}");
    }

    #[test]
    fn queries_describe_catalogue_items() {
        let opts = SynthOptions {
            items: 3000,
            seed: 13,
        };
        let queries = sample_queries(&opts, 500, 77);
        assert_eq!(queries.len(), 500);
        let records = rows(&catalog(opts.items, opts.seed));
        let vocab: HashSet<String> = records
            .iter()
            .flat_map(|r| {
                r[1].split(|c: char| c.is_whitespace() || c == ',')
                    .map(|w| w.to_ascii_lowercase())
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut grounded = 0;
        for q in &queries {
            assert!(!q.trim().is_empty());
            if q.split(|c: char| c.is_whitespace() || c == ',')
                .any(|w| w.len() > 2 && vocab.contains(&w.to_ascii_lowercase()))
            {
                grounded += 1;
            }
        }
        assert!(grounded >= 400, "{grounded}");
        let short = queries
            .iter()
            .filter(|q| q.split_whitespace().count() <= 5)
            .count();
        assert!(short >= 250, "{short}");
        assert_eq!(
            sample_queries(&SynthOptions { items: 0, seed: 1 }, 3, 1).len(),
            3
        );
    }

    #[test]
    fn codes_follow_patterns_and_tweaks_change_one_char() {
        let synth = Synth::new(5);
        for id in 0..200 {
            let fam = synth.family(id);
            let (mut a, mut b) = (String::new(), String::new());
            synth.model_code(&fam, 0, &mut a);
            synth.model_code(&fam, 3, &mut b);
            assert_eq!(a.len(), b.len());
            let diff = a.bytes().zip(b.bytes()).filter(|(x, y)| x != y).count();
            assert_eq!(diff, 1, "{a} vs {b}");
            assert!(a.bytes().all(|c| !c.is_ascii_lowercase()), "{a}");
        }
        let mut out = String::new();
        format_code("WH1000XM4", 5, 0, &mut out);
        assert_eq!(out, "WH-1000XM4");
    }
}
