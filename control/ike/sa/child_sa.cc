#include "control/ike/sa/child_sa.hh"

#include "control/ike/sa/proposal_select.hh"

namespace traverse::ike {

uint16_t ChildSa::encr_id() const {
  auto t = transform_of(proposal, kTransformEncr);
  return t ? t->id : 0;
}
uint16_t ChildSa::key_bits() const {
  auto t = transform_of(proposal, kTransformEncr);
  return t ? t->key_bits : 0;
}
uint16_t ChildSa::integ_id() const {
  auto t = transform_of(proposal, kTransformInteg);
  return t ? t->id : 0;
}
uint16_t ChildSa::dh_group() const {
  auto t = transform_of(proposal, kTransformDh);
  return t ? t->id : 0;
}
bool ChildSa::esn() const {
  auto t = transform_of(proposal, kTransformEsn);
  return t && t->id == 1;
}

}  // namespace traverse::ike
