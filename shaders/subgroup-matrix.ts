// WGSL text for chromium_experimental_subgroup_matrix (subgroup matrices: tensor cores, cooperative
// matrices), written for the two forms Dawn has shipped. The feature is experimental and its
// load/store builtins changed between Dawn versions:
//   dialect 'argument'  subgroupMatrixLoad<T>(p, offset, col_major: bool, stride)
//                       subgroupMatrixStore(p, offset, value, col_major: bool, stride)
//   dialect 'template'  subgroupMatrixLoad<T, row_major | col_major>(p, offset, stride)
//                       subgroupMatrixStore<row_major | col_major>(p, offset, value, stride)
// and for 8-bit components (stored 4 per i32 / u32 array element) the offset and the stride were
// first counted in matrix components (bytes) and later in array elements (words). Which of these a
// device's Dawn implements is found by running a probe (engine/device/subgroup-matrix.ts), and the
// generators take the result as `SubgroupMatrixConventions`. Pure: no GPU objects.

/** A configuration a device offers (GPUAdapterInfo.subgroupMatrixConfigs). */
export interface SubgroupMatrixConfig {
  componentType: string;
  resultComponentType: string;
  M: number;
  N: number;
  K: number;
}

/** How this device's Dawn spells loads and stores of subgroup matrices (see the header). */
export interface SubgroupMatrixConventions {
  dialect: 'argument' | 'template';
  /** Units of the offset and of the stride of 8-bit matrices: 'component' (bytes) or 'word'. */
  offsetUnit: 'component' | 'word';
  strideUnit: 'component' | 'word';
}

/** Every combination, in the order a probe tries them (the current form first). */
export const SUBGROUP_MATRIX_CONVENTIONS: readonly SubgroupMatrixConventions[] = (['template', 'argument'] as const).flatMap((dialect) =>
  (['word', 'component'] as const).flatMap((offsetUnit) => (['word', 'component'] as const).map((strideUnit) => ({ dialect, offsetUnit, strideUnit }))),
);

export function conventionsKey(c: SubgroupMatrixConventions): string {
  return `${c.dialect},${c.offsetUnit},${c.strideUnit}`;
}

/** The directives a module using subgroup matrices starts with. The uniformity diagnostics are
 *  turned off because load / store offsets derive from subgroup_id, which is uniform per subgroup
 *  (what the hardware needs) but not per workgroup (what older analyses check). */
export const SUBGROUP_MATRIX_ENABLES = `enable subgroups;
enable chromium_experimental_subgroup_matrix;
diagnostic(off, chromium.subgroup_matrix_uniformity);
diagnostic(off, subgroup_uniformity);`;

/** An 8-bit matrix's offset or stride, given in components (bytes), in the device's unit. */
function unit8(expr: string, u: 'component' | 'word'): string {
  return u === 'component' ? `(${expr})` : `((${expr}) / 4u)`;
}

/** `subgroupMatrixLoad` of an 8-bit matrix type `type` from `ptr`, offset and stride in bytes. */
export function load8(c: SubgroupMatrixConventions, type: string, ptr: string, offsetBytes: string, colMajor: boolean, strideBytes: string): string {
  const off = unit8(offsetBytes, c.offsetUnit);
  const stride = unit8(strideBytes, c.strideUnit);
  return c.dialect === 'template'
    ? `subgroupMatrixLoad<${type}, ${colMajor ? 'col_major' : 'row_major'}>(${ptr}, ${off}, ${stride})`
    : `subgroupMatrixLoad<${type}>(${ptr}, ${off}, ${colMajor}, ${stride})`;
}

/** `subgroupMatrixStore` of a 32-bit result (offset and stride in elements, the same in every form). */
export function store32(c: SubgroupMatrixConventions, ptr: string, offset: string, value: string, colMajor: boolean, stride: string): string {
  return c.dialect === 'template'
    ? `subgroupMatrixStore<${colMajor ? 'col_major' : 'row_major'}>(${ptr}, ${offset}, ${value}, ${stride})`
    : `subgroupMatrixStore(${ptr}, ${offset}, ${value}, ${colMajor}, ${stride})`;
}
