/** The names the sample's generated B2B data draws from. */
/** Cities customers are in (vocabulary input `city`). */
export const CITIES = [
  'Warsaw',
  'Krakow',
  'Gdansk',
  'Wroclaw',
  'Poznan',
  'Lodz',
  'Berlin',
  'Prague',
  'Vienna',
  'Budapest',
  'Vilnius',
  'Riga',
];
/** Customer segments (vocabulary input `segment`). */
export const SEGMENTS = ['retail', 'horeca', 'wholesale', 'industrial', 'public'];
/** Product categories (candidate tower input). */
export const CATEGORIES = [
  'beverages',
  'dairy',
  'bakery',
  'frozen',
  'produce',
  'meat',
  'cleaning',
  'paper',
  'packaging',
  'office',
  'tools',
  'fasteners',
  'safety',
  'electrical',
  'plumbing',
  'lighting',
  'furniture',
  'kitchen',
  'textiles',
  'chemicals',
  'it-hardware',
  'medical',
  'garden',
  'automotive',
];
/** Price tiers, cheapest first (candidate tower input). */
export const TIERS = ['budget', 'standard', 'premium'];
